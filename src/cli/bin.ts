#!/usr/bin/env node
// The `iova` executable: runs the command line and sets the exit code. A pipe closed early on
// stdout or stderr (`iova ranges … | head`, `iova import … 2>&1 | head -1`) ends it quietly.
import type { Io } from './command.js';
import { main } from './main.js';

for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const io: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  isTty: process.stdout.isTTY === true,
  columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  progress: process.stderr.isTTY ? (line) => process.stderr.write(`\r\x1b[K${line}`) : undefined,
  progressFd: process.stderr.isTTY ? 2 : undefined,
};

process.exitCode = await main(process.argv.slice(2), io);
