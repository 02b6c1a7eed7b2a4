/**
 * Driving a headless Chromium for the render tests without an npm dependency: the browser is
 * started with `--remote-debugging-pipe`, which speaks the DevTools protocol as NUL-terminated
 * JSON messages on file descriptors 3 (to the browser) and 4 (from it). No WebSocket (Node 20
 * has none without a flag), no port, no download.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

/** Where Debian installs Chromium; `CHROMIUM` names another binary (and only that one). */
export function findChromium(): string | undefined {
  const candidates = process.env.CHROMIUM ? [process.env.CHROMIUM] : ['/usr/bin/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((c) => existsSync(c));
}

export type Json = Record<string, unknown>;

interface Message {
  id?: number;
  method?: string;
  params?: Json;
  result?: Json;
  error?: { message: string };
  sessionId?: string;
}

export class Browser {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: Json) => void; reject: (e: Error) => void; method: string }>();
  private readonly listeners = new Set<(m: Message) => void>();
  private buffer = '';
  private stderr = '';
  private exited = false;

  private constructor(
    private readonly child: ChildProcess,
    private readonly userDataDir: string,
  ) {
    const output = child.stdio[4] as Readable;
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => this.receive(chunk));
    (child.stderr as Readable).setEncoding('utf8');
    (child.stderr as Readable).on('data', (chunk: string) => {
      // Keep the tail only: enough to explain a crash.
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    child.on('exit', (code, signal) => {
      this.exited = true;
      const error = new Error(`chromium exited (${signal ?? code}) before answering; stderr:\n${this.stderr}`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    });
  }

  static async launch(executable: string): Promise<Browser> {
    const userDataDir = mkdtempSync(join(tmpdir(), 'iova-chromium-'));
    const child = spawn(
      executable,
      [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--no-default-browser-check',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
        '--hide-scrollbars',
        '--force-device-scale-factor=1',
        `--user-data-dir=${userDataDir}`,
        '--remote-debugging-pipe',
        'about:blank',
      ],
      { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] },
    );
    const browser = new Browser(child, userDataDir);
    await withTimeout(browser.send('Browser.getVersion'), 30_000, () => `chromium did not answer on the DevTools pipe; stderr:\n${browser.stderr}`);
    return browser;
  }

  /** Send a command (to the browser, or to a page's session) and wait for its result. */
  send(method: string, params: Json = {}, sessionId?: string): Promise<Json> {
    if (this.exited) return Promise.reject(new Error(`chromium has exited; stderr:\n${this.stderr}`));
    const id = this.nextId++;
    const message: Message = { id, method, params, ...(sessionId ? { sessionId } : {}) };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      (this.child.stdio[3] as Writable).write(`${JSON.stringify(message)}\0`);
    });
  }

  /** Listen to every event; returns the function that stops listening. */
  onEvent(listener: (m: Message) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** A new tab, attached in flat mode, with Page, Runtime, Log and Network events on. */
  async newPage(): Promise<Page> {
    const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const page = new Page(this, sessionId);
    for (const domain of ['Page', 'Runtime', 'Log', 'Network']) await page.send(`${domain}.enable`);
    return page;
  }

  async close(): Promise<void> {
    if (!this.exited) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      try {
        await withTimeout(this.send('Browser.close'), 5_000, () => 'Browser.close timed out');
      } catch {
        this.child.kill('SIGKILL');
      }
      await withTimeout(exited, 10_000, () => 'chromium did not exit').catch(() => this.child.kill('SIGKILL'));
    }
    rmSync(this.userDataDir, { recursive: true, force: true });
  }

  private receive(chunk: string): void {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf('\0'); end >= 0; end = this.buffer.indexOf('\0')) {
      const message = JSON.parse(this.buffer.slice(0, end)) as Message;
      this.buffer = this.buffer.slice(end + 1);
      if (message.id !== undefined) {
        const p = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error) p?.reject(new Error(`${p.method}: ${message.error.message}`));
        else p?.resolve(message.result ?? {});
      } else {
        for (const listener of this.listeners) listener(message);
      }
    }
  }
}

/** What a page reported that a test cares about. */
export interface PageLog {
  /** Console errors, uncaught exceptions and browser log errors (CSP violations, failed loads). */
  errors: string[];
  /** Every URL the page requested. */
  requests: string[];
}

export class Page {
  readonly log: PageLog = { errors: [], requests: [] };

  constructor(
    private readonly browser: Browser,
    private readonly sessionId: string,
  ) {
    browser.onEvent((m) => {
      if (m.sessionId !== sessionId || !m.params) return;
      const p = m.params as Json;
      if (m.method === 'Runtime.consoleAPICalled' && (p.type === 'error' || p.type === 'assert')) {
        this.log.errors.push(`console.${String(p.type)}: ${JSON.stringify(p.args)}`);
      } else if (m.method === 'Runtime.exceptionThrown') {
        this.log.errors.push(`exception: ${JSON.stringify((p.exceptionDetails as Json | undefined)?.exception ?? p.exceptionDetails)}`);
      } else if (m.method === 'Log.entryAdded') {
        const entry = p.entry as { level: string; text: string; url?: string };
        if (entry.level === 'error') this.log.errors.push(`log: ${entry.text}${entry.url ? ` (${entry.url})` : ''}`);
      } else if (m.method === 'Network.requestWillBeSent') {
        this.log.requests.push(String((p.request as Json).url));
      }
    });
  }

  send(method: string, params: Json = {}): Promise<Json> {
    return this.browser.send(method, params, this.sessionId);
  }

  /** Navigate and wait for the load event. */
  async goto(url: string): Promise<void> {
    const loaded = new Promise<void>((resolve) => {
      const stop = this.browser.onEvent((m) => {
        if (m.sessionId === this.sessionId && m.method === 'Page.loadEventFired') {
          stop();
          resolve();
        }
      });
    });
    const result = (await this.send('Page.navigate', { url })) as { errorText?: string };
    if (result.errorText) throw new Error(`navigating to ${url}: ${result.errorText}`);
    await withTimeout(loaded, 30_000, () => `${url} did not finish loading`);
  }

  /** Evaluate an expression in the page and return its value (JSON-serialisable). */
  async evaluate<T>(expression: string): Promise<T> {
    const r = (await this.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true })) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails) throw new Error(`in the page: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  }

  /** Move the mouse to a point of the viewport, as a user would. */
  async hover(x: number, y: number): Promise<void> {
    await this.send('Input.dispatchMouseEvent', { type: 'mouseMoved', x, y });
  }

  async click(x: number, y: number): Promise<void> {
    await this.send('Input.dispatchMouseEvent', { type: 'mousePressed', x, y, button: 'left', clickCount: 1 });
    await this.send('Input.dispatchMouseEvent', { type: 'mouseReleased', x, y, button: 'left', clickCount: 1 });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
