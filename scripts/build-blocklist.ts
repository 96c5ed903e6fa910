// Writes assets/common-passwords.txt from the ranked common-password list of @zxcvbn-ts/language-common
// (leaked-password frequency order). Only entries that the length rule would not already refuse are kept.
import { writeFileSync } from 'node:fs';
import { dictionary } from '@zxcvbn-ts/language-common';

const MIN_LENGTH = 8;
const ranked = dictionary['passwords-common'] as string[];
const kept = ranked.filter((p) => [...p].length >= MIN_LENGTH);
writeFileSync(new URL('../assets/common-passwords.txt', import.meta.url), `${kept.join('\n')}\n`);
console.log(`wrote ${kept.length} passwords of ${MIN_LENGTH}+ characters (from ${ranked.length} ranked)`);
