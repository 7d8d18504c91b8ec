/**
 * How `steward demo` shows its steps as they happen. On a terminal, the running step is one
 * line with a spinner, redrawn in place, that becomes a ✔ or ✖ line when the step ends; anywhere
 * else (a pipe, a CI log) every change is a plain line of its own, so nothing is overwritten.
 * Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org).
 */

/** Where the display writes: a terminal (`isTTY`) or anything else. */
export type ProgressSink = {
  write(text: string): void;
  isTTY: boolean;
  /** The terminal's width: the spinner's line is cut to fit, or redrawing it would wrap. */
  columns?: number;
};

export type ProgressOptions = {
  sink: ProgressSink;
  /** Whether to colour the output. @default sink.isTTY and NO_COLOR unset or empty */
  color?: boolean;
  /** @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Milliseconds since some origin, for the steps' durations. @default performance.now */
  now?: () => number;
  /** How often the spinner turns, on a terminal. @default 80 */
  frameMs?: number;
};

export type Progress = {
  /** A step begins: its label (`[3/9]`) and what it does. */
  start(label: string, title: string): void;
  /** What the running step is doing now (a run's state, rows sent…). */
  update(detail: string): void;
  /** The running step ended well; its duration in ms is returned. */
  done(result: string): number;
  /** The running step failed; its duration in ms is returned. */
  fail(reason: string): number;
  /** A line of its own, between steps. */
  line(text: string): void;
  /** Stops the spinner (a step left running is left unfinished on screen). */
  stop(): void;
};

/** `text` cut to `width` characters, with an ellipsis when cut. */
const clip = (text: string, width: number) =>
  width <= 0 ? '' : text.length <= width ? text : `${text.slice(0, width - 1)}…`;

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** Whether colour is wanted: a terminal, and NO_COLOR absent or empty. */
export function wantsColor(isTTY: boolean, env: NodeJS.ProcessEnv = process.env): boolean {
  return isTTY && !env.NO_COLOR;
}

export function createProgress(options: ProgressOptions): Progress {
  const { sink } = options;
  const tty = sink.isTTY;
  const color = options.color ?? wantsColor(tty, options.env);
  const now = options.now ?? (() => performance.now());
  const paint = (code: number, text: string) => (color ? `\x1b[${code}m${text}\x1b[0m` : text);
  const green = (t: string) => paint(32, t);
  const red = (t: string) => paint(31, t);
  const cyan = (t: string) => paint(36, t);
  const dim = (t: string) => paint(2, t);

  let step: { label: string; title: string; startedAt: number; detail: string } | undefined;
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;

  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

  function draw(): void {
    if (!step) return;
    const width = Math.max(20, (sink.columns ?? 80) - 1);
    const head = clip(`${step.label} ${step.title}`, width - 2);
    const detail = step.detail ? clip(` · ${step.detail}`, width - 2 - head.length) : '';
    sink.write(`\r\x1b[2K${cyan(FRAMES[frame % FRAMES.length] ?? '-')} ${head}${detail ? dim(detail) : ''}`);
  }

  function finish(mark: string, text: string): number {
    const ended = step;
    if (!ended) return 0;
    step = undefined;
    if (timer) clearInterval(timer);
    timer = undefined;
    const ms = now() - ended.startedAt;
    if (tty)
      sink.write(`\r\x1b[2K${mark} ${ended.label} ${ended.title}: ${text} ${dim(`(${seconds(ms)})`)}\n`);
    else sink.write(`${ended.label} ${mark} ${text} (${seconds(ms)})\n`);
    return ms;
  }

  return {
    start(label, title) {
      step = { label, title, startedAt: now(), detail: '' };
      if (!tty) {
        sink.write(`${step.label} ${title}\n`);
        return;
      }
      frame = 0;
      draw();
      timer = setInterval(() => {
        frame++;
        draw();
      }, options.frameMs ?? 80);
      timer.unref();
    },
    update(detail) {
      if (!step || detail === step.detail) return;
      step.detail = detail;
      if (tty) draw();
      else sink.write(`      ${detail}\n`);
    },
    done: (result) => finish(tty ? green('✔') : 'ok', result),
    fail: (reason) => finish(tty ? red('✖') : 'FAILED', reason),
    line(text) {
      if (tty && step) sink.write('\r\x1b[2K');
      sink.write(`${text}\n`);
      if (tty) draw();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      if (tty && step) sink.write('\n');
      step = undefined;
    },
  };
}
