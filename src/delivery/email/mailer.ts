// The email port. Two deliveries: the development outbox, and SMTP. Flows only see `Mailer`.
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  /** Links inside the text, listed for the outbox and for tests. */
  links: string[];
}

export interface Mailer {
  readonly kind: 'outbox' | 'smtp';
  send(message: EmailMessage): Promise<void>;
  close(): Promise<void>;
}
