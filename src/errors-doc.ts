// docs/errors.md, rendered from the ERRORS table so the reference cannot drift from the code.
// Pure; scripts/gen-errors-doc.mjs writes it; test/unit/errors.test.ts fails while it is stale.
import {ERRORS, type ErrorCode} from './errors.js'

const KINDS: Record<string, string> = {
  user: 'a mistake in the input (workspace, flags, plan file): fix it and run again',
  environment: 'something outside kbk (a broker, a store, the network)',
  conflict: 'another writer or run got there first',
  internal: 'a bug in kbk: please report it',
}

export function renderErrorsDoc(): string {
  const codes = (Object.keys(ERRORS) as ErrorCode[]).sort()
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from src/errors.ts by `node scripts/gen-errors-doc.mjs` after `npm run build`. Do not edit by hand. -->',
    '',
    'Every error and diagnostic kbk reports carries one of these codes (`code` in `--json` output).',
    'Compliance diagnostics add one family: `KBK_COMPLIANCE_<TAG>_<RULE>` (see docs/compliance.md).',
    '',
    'Kinds:',
    ...Object.entries(KINDS).map(([k, v]) => `- \`${k}\`: ${v}.`),
    '',
    '"Retriable" is the default: the same call may succeed later, and kbk\'s own retry loops retry it.',
    'A single error may say otherwise (`retriable` in `--json` output is what counts); for',
    'KBK_KAFKA_ERROR and KBK_STORE_IO it depends on what the broker or store answered.',
    '',
    '| code | kind | retriable | meaning |',
    '| --- | --- | --- | --- |',
    ...codes.map((c) => {
      const e = ERRORS[c]
      return `| <a id="${c.toLowerCase()}"></a>\`${c}\` | ${e.kind} | ${e.retriable ? 'yes' : 'no'} | ${e.summary.replace(/\|/g, '\\|')} |`
    }),
    '',
  ]
  return lines.join('\n')
}
