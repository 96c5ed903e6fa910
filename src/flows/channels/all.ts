// Loads every channel kind so it registers itself. Add a new kind here.
import './device-channel.ts';
import './sms-channel.ts';
import './totp-channel.ts';
import './webauthn-channel.ts';
