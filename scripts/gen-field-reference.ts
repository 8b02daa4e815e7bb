/** Rewrites the generated field reference section of README.md from the API schemas. */
import { readFileSync, writeFileSync } from 'node:fs';
import { fieldReference, REFERENCE_END, REFERENCE_START } from '../src/api/reference.ts';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const start = readme.indexOf(REFERENCE_START);
const end = readme.indexOf(REFERENCE_END);
if (start < 0 || end < 0) {
  console.error(`README.md has no generated section: add the lines\n${REFERENCE_START}\n${REFERENCE_END}\nwhere the field reference belongs, then run this again.`);
  process.exit(1);
}
writeFileSync(path, readme.slice(0, start) + fieldReference() + readme.slice(end + REFERENCE_END.length));
console.log('README.md field reference updated.');
