// The SMS port (SPEC §6): one interface, several providers. A provider either accepts the message
// (and returns its id for the message) or throws AppError: SMS_NUMBER_REJECTED when the provider
// refuses the number, SMS_DELIVERY_FAILED when it could not be reached or kept failing.
export interface SmsMessage {
  /** E.164 */
  to: string;
  body: string;
  /** The code inside the body, listed separately in the development outbox. */
  code?: string;
}

export interface SmsSender {
  readonly kind: 'outbox' | 'twilio' | 'webhook';
  send(message: SmsMessage): Promise<{ providerId: string }>;
}
