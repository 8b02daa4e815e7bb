/** Process entry point of the `lattice` executable. */
import { run } from './main.ts';

// Output piped into a program that stops reading early (`lattice install | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const code = await run(process.argv.slice(2));
process.exitCode = code;
// Exit as soon as everything written has been handed to the system: letting Node tear the heap down
// (waiting for background garbage collection on a large render) adds a few hundred milliseconds.
const flushed = (stream: NodeJS.WriteStream): Promise<void> => (stream.writableLength === 0 ? Promise.resolve() : new Promise((resolve) => stream.once('drain', () => resolve())));
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
