#!/usr/bin/env node
// The `iova` executable: runs the command line and sets the exit code. Output goes through
// process.stdout/stderr with control characters from input escaped, and a pipe closed early
// on either (`iova ranges … | head`, `iova import … 2>&1 | head -1`) ends the command quietly.
import { escapeTerminal } from '../model/escape.js';
import type { Io } from './command.js';
import { main } from './main.js';

for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const io: Io = {
  out: (text) => process.stdout.write(`${escapeTerminal(text)}\n`),
  err: (text) => process.stderr.write(`${escapeTerminal(text)}\n`),
  isTty: process.stdout.isTTY === true,
  progress: process.stderr.isTTY ? (line) => process.stderr.write(`\r\x1b[K${escapeTerminal(line)}`) : undefined,
};

process.exitCode = await main(process.argv.slice(2), io);
