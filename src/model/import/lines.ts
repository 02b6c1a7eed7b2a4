/**
 * Line cleaning shared by the text importers.
 *
 * Real captures are rarely bare command output: they come out of mails (`> ` quoting, wrapped
 * lines), forum posts (markdown fences), terminals (shell prompts and the commands typed) and
 * journals (syslog prefixes, dmesg timestamps). `splitLines` takes that apart once, so that each
 * importer sees, for every physical line, both what was in the file and the message it carries,
 * and knows which lines are structure (headers, prompts, excerpt markers) rather than data.
 */

/** What a line is, structurally. Only `content` lines carry facts or deserve a warning. */
export type LineRole =
  /** Empty (after removing mail quoting). */
  | 'blank'
  /** A `#` line in the block of `#` lines that opens the file. */
  | 'header'
  /** A later `#` line that is not a root prompt (markdown heading, script comment). */
  | 'comment'
  /** An excerpt or section marker: `[...]`, `...`, `--- turn 27 ---`. */
  | 'marker'
  /** A markdown code fence. */
  | 'fence'
  /** A shell prompt or a command line as typed; `command` holds the command. */
  | 'prompt'
  /** A sysfs or procfs path on a line of its own, naming what follows. */
  | 'path'
  | 'content';

export interface SourceLine {
  /** 1-based line number in the file. */
  readonly line: number;
  /** The line as in the file (without the line break). */
  readonly raw: string;
  /** The line without mail quoting and trailing white space; indentation is kept. */
  readonly body: string;
  /**
   * `body` without a syslog prefix (`Mar 08 20:54:07 host kernel: `) or a dmesg timestamp
   * (`[   40.940589] `), and without leading white space.
   */
  readonly message: string;
  /** Whether a syslog prefix or a dmesg timestamp was removed: the line is kernel log. */
  readonly logPrefix: boolean;
  readonly role: LineRole;
  /** For `prompt` lines: the command typed (empty for a bare prompt). For `path` lines: the path. */
  readonly command?: string;
}

// `>` counts as mail quoting only when followed by white space, another `>` or the end of the
// line, so that lspci's `>TAbort-` or a wrapped `>start_dma` are left alone. One space after
// it belongs to the quoting; a tab is the quoted line's own indentation.
const QUOTE = /^(?:>(?: |(?=[\t>])|$))+/;

const SYSLOG_PREFIX =
  /^(?:[A-Z][a-z]{2,8}\.? +\d{1,2} +\d\d:\d\d:\d\d(?:\.\d+)?|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?) +\S+ +kernel(?:\[\d+\])?: ?/;
const DMESG_TIMESTAMP =
  /^(?:<\d+>)?(?:\[ *\d+\.\d+\]|\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\]) ?/;

/** Commands whose output the importers read, or that people pipe it through. */
const COMMAND_WORDS =
  /^(?:sudo\s+)?(?:cat|grep|egrep|ls|lspci|dmesg|find|journalctl|tail|head|sort|uniq|cd|tree|readlink|for|echo|printf|awk|sed|tar|cp|iova)(?:\s|$)/;

/** Shell prompts: `[root@host dir]# `, `user@host:~$ `, `host:/$ `, `sh-5.1# `, `$ `. */
const PROMPTS = [
  /^\[[^\]]*\][#$]\s?(.*)$/,
  /^[\w.-]+@[\w.-]+(?::[^\s#$]*)?[#$]\s?(.*)$/,
  /^[\w.-]+:[~/][^\s#$]*[#$]\s?(.*)$/,
  /^[a-z]+-\d[\w.]*[#$]\s(.*)$/,
  /^\$(?:\s(.*))?$/,
];

/** Split a file into cleaned lines (see {@link SourceLine}). */
export function splitLines(text: string): SourceLine[] {
  const physical = stripNulPadding(text).split(/\r?\n/);
  if (physical.length > 0 && physical[physical.length - 1] === '') physical.pop();
  const out: SourceLine[] = [];
  let inHeader = true;
  physical.forEach((raw, index) => {
    // trimEnd, not /\s+$/: the regex retries at every space of a long run (quadratic).
    const body = raw.replace(QUOTE, '').trimEnd();
    let rest = body.trimStart();
    let logPrefix = false;
    const syslog = SYSLOG_PREFIX.exec(rest);
    if (syslog) {
      rest = rest.slice(syslog[0].length);
      logPrefix = true;
    }
    const stamp = DMESG_TIMESTAMP.exec(rest);
    if (stamp) {
      rest = rest.slice(stamp[0].length);
      logPrefix = true;
    }
    const message = rest.trimStart();
    const { role, command } = classify(body, logPrefix, inHeader);
    if (role !== 'header') inHeader = false;
    out.push({ line: index + 1, raw, body, message, logPrefix, role, ...(command !== undefined ? { command } : {}) });
  });
  return out;
}

/**
 * `text` without trailing NUL bytes (sysfs captures are padded with them), found by a scan
 * from the end: `/\0+$/` would retry at every NUL of a long run that is not at the end.
 */
export function stripNulPadding(text: string): string {
  let end = text.length;
  while (end > 0 && text.charCodeAt(end - 1) === 0) end--;
  return end === text.length ? text : text.slice(0, end);
}

function classify(body: string, logPrefix: boolean, inHeader: boolean): { role: LineRole; command?: string } {
  const trimmed = body.trim();
  if (trimmed === '') return { role: 'blank' };
  if (logPrefix) return { role: 'content' };
  if (trimmed.startsWith('#')) {
    // `# cat /sys/...` is a root prompt, even at the top of a file.
    const rootPrompt = /^#\s+(.*)$/.exec(trimmed);
    if (rootPrompt && COMMAND_WORDS.test(rootPrompt[1]) && isCommandLike(rootPrompt[1])) {
      return { role: 'prompt', command: rootPrompt[1].trim() };
    }
    return { role: inHeader ? 'header' : 'comment' };
  }
  if (/^```/.test(trimmed)) return { role: 'fence' };
  if (/^\[\.\.\.\]$|^\.{3,}$|^-{3,}$|^-{3}\s.*\s-{3}$/.test(trimmed)) return { role: 'marker' };
  for (const prompt of PROMPTS) {
    const m = prompt.exec(trimmed);
    if (m) return { role: 'prompt', command: (m[1] ?? '').trim() };
  }
  if (COMMAND_WORDS.test(trimmed) && isCommandLike(trimmed)) return { role: 'prompt', command: trimmed };
  if (/^\/(?:sys|proc)\/\S+$/.test(trimmed)) return { role: 'path', command: trimmed };
  return { role: 'content' };
}

/** A line that starts with a command word and reads like a command, not like prose. */
function isCommandLike(text: string): boolean {
  const args = text.replace(COMMAND_WORDS, '');
  return args === '' || /[/|$]|(?:^|\s)-\w|reserved_regions|iommu/.test(args);
}
