// Builds the reference pages that are derived from code, so they cannot drift: the configuration
// table (docs/configuration.md) and the error codes (docs/errors.md). `npm run docs` writes them;
// a test fails when they are out of date.
import { configFields, flagName } from '../src/config.ts';
import { errorCatalog } from '../src/core/errors.ts';
import { en } from '../src/text/en.ts';

function configurationRows(): string[] {
  return configFields.map((f) => {
    const allowed = f.kind === 'enum' ? ` (${f.values?.join(', ')})` : f.kind === 'int' ? ` (${f.min}–${f.max})` : '';
    return `| \`${f.env}\` | \`--${flagName(f)}\` | ${f.default === undefined ? '—' : `\`${f.default}\``} | ${f.description}${allowed} |`;
  });
}

const BEGIN = '<!-- configuration: generated from src/config.ts by `npm run docs` -->';
const END = '<!-- end of configuration -->';

/** docs/operations.md is written by hand except its configuration reference, which is the schema's table. */
export function operationsDoc(current: string): string {
  const start = current.indexOf(BEGIN);
  const end = current.indexOf(END);
  if (start < 0 || end < start) throw new Error('docs/operations.md lost its configuration markers');
  const table = `| variable | flag | default | meaning |\n|---|---|---|---|\n${configurationRows().join('\n')}\n`;
  return `${current.slice(0, start)}${BEGIN}\n${table}${current.slice(end)}`;
}

export function configurationDoc(): string {
  const rows = configurationRows();
  return `# Configuration

Every setting is an environment variable and a flag of \`twostep serve|migrate|config\`; a flag wins over
the environment. Values are checked at start-up and each bad value is reported on its own line (exit code 78).
\`twostep config\` prints the effective values with secrets masked. With \`NODE_ENV=production\` the server
refuses to start without \`TWOSTEP_SECRET\`, an \`SMTP_URL\` and an \`https://\` \`PUBLIC_URL\`.

This page is generated from \`src/config.ts\` by \`npm run docs\`.

| variable | flag | default | meaning |
|---|---|---|---|
${rows.join('\n')}
`;
}

export function errorsDoc(): string {
  const rows = Object.entries(errorCatalog).map(([code, status]) => {
    const id = `error.${code}` as keyof typeof en;
    return `| \`${code}\` | ${status} | ${en[id] ?? ''} |`;
  });
  return `# Error codes

Every error answer of the JSON API is \`{"error": {"code": "…", "message": "…", "detail"?: {…}}}\`. The code is
stable and meant for programs; the message is for people, in the language of the request (\`Accept-Language\`
or the language cookie). Browsers get the same message on an HTML page.

This page is generated from \`src/core/errors.ts\` by \`npm run docs\`.

| code | HTTP status | message (English) |
|---|---|---|
${rows.join('\n')}
`;
}
