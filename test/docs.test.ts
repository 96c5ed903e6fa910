// The reference pages derived from code must match the code (run `npm run docs` after a change).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { configurationDoc, errorsDoc, operationsDoc } from '../scripts/reference-docs.ts';

test('docs/configuration.md matches src/config.ts', () => {
  assert.equal(readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8'), configurationDoc());
});

test('docs/errors.md matches src/core/errors.ts', () => {
  assert.equal(readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8'), errorsDoc());
});

test('the configuration reference in docs/operations.md matches src/config.ts', () => {
  const current = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8');
  assert.equal(current, operationsDoc(current));
});
