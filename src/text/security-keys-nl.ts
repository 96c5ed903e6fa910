import type { securityKeysEn } from './security-keys-en.ts';

// Nederlands voor beveiligingssleutels en passkeys. Elke id van security-keys-en.ts moet hier staan.
export const securityKeysNl: Record<keyof typeof securityKeysEn, string> = {
  'error.SECURITY_KEY_LIMIT':
    'U hebt al het grootste aantal beveiligingssleutels dat is toegestaan. Verwijder eerst een sleutel die u niet meer gebruikt.',
  'error.SECURITY_KEY_ALREADY_REGISTERED': 'Deze beveiligingssleutel hoort al bij uw account.',
  'error.SECURITY_KEY_REJECTED':
    'Het antwoord van de beveiligingssleutel kon niet worden gecontroleerd. Probeer het opnieuw.',
  'error.SECURITY_KEY_REQUIRED':
    'Dit account gebruikt beveiligingssleutels in plaats van verificatiecodes. Gebruik een van uw beveiligingssleutels.',
  'email.securityKeyAdded.subject': 'Er is een beveiligingssleutel toegevoegd',
  'email.securityKeyAdded.body':
    'Hallo {name},\n\nDe beveiligingssleutel “{label}” is toegevoegd aan uw Twostep-account. Daarmee kunt u nu bevestigen dat u het bent.',
  'email.securityKeyRemoved.subject': 'Er is een beveiligingssleutel verwijderd',
  'email.securityKeyRemoved.body':
    'Hallo {name},\n\nDe beveiligingssleutel “{label}” is verwijderd uit uw Twostep-account. Hij werkt er niet meer voor.',
  'event.security_key.added': 'Er is een beveiligingssleutel of passkey toegevoegd',
  'event.security_key.removed': 'Er is een beveiligingssleutel of passkey verwijderd',
  'account.securityKeys': 'Beveiligingssleutels en passkeys',
  'account.securityKeys.intro':
    'Een beveiligingssleutel of passkey bevestigt met een aanraking of uw vingerafdruk dat u het bent, en trapt niet in een nagemaakte site.',
  'account.securityKeys.manage': 'Beveiligingssleutels en passkeys beheren',
  'securityKeys.title': 'Beveiligingssleutels en passkeys',
  'securityKeys.intro':
    'Een beveiligingssleutel (een klein USB-, NFC- of Bluetooth-apparaat) of een passkey (bewaard door uw telefoon, computer of wachtwoordbeheerder) antwoordt voor u als u inlogt of een wijziging bevestigt. Niemand kan hem op een nepsite invullen.',
  'securityKeys.rules.apple':
    'Voeg minstens twee sleutels toe, zodat u er nog in kunt als u er een kwijtraakt. Vanaf de tweede sleutel vervangen uw sleutels de verificatiecodes. U kunt er tot zes toevoegen.',
  'securityKeys.rules.open':
    'U kunt tot {max} sleutels toevoegen. Ze werken naast uw andere manieren om een code te ontvangen.',
  'securityKeys.none': 'U hebt nog geen beveiligingssleutel of passkey.',
  'securityKeys.name': 'Naam van de sleutel',
  'securityKeys.namePlaceholder': 'Bijvoorbeeld: blauwe sleutel aan mijn sleutelbos',
  'securityKeys.add': 'Beveiligingssleutel of passkey toevoegen',
  'securityKeys.remove': 'Verwijderen',
  'securityKeys.added': 'De beveiligingssleutel is toegevoegd.',
  'securityKeys.removed': 'De beveiligingssleutel is verwijderd.',
  'securityKeys.createdAt': 'Toegevoegd',
  'securityKeys.lastUsed': 'Laatst gebruikt',
  'securityKeys.neverUsed': 'nog niet',
  'securityKeys.passkey': 'Passkey: kan u ook zonder wachtwoord laten inloggen.',
  'securityKeys.needsScript':
    'Uw browser praat via JavaScript met beveiligingssleutels. Zet het voor deze site aan om er een toe te voegen of te gebruiken.',
  'securityKeys.cancelled':
    'De beveiligingssleutel antwoordde niet, of het verzoek is geannuleerd. Probeer het opnieuw.',
  'enrol.devices.useSecurityKey': 'Een beveiligingssleutel of passkey gebruiken',
  'twoStep.useSecurityKey': 'Beveiligingssleutel of passkey gebruiken',
  'twoStep.securityKeyOnly': 'Bevestig met een van uw beveiligingssleutels.',
  'signin.passkey': 'Inloggen met een passkey',
  'signin.passkeyHint': 'Geen wachtwoord nodig: uw telefoon, computer of beveiligingssleutel bevestigt dat u het bent.',
};
