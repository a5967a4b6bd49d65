// Progress on stderr while scenarios run: one rewritten status line on a terminal (scenario,
// kernel, step, elapsed), plain timestamped lines otherwise (CI logs, pipes).

export interface Progress {
  begin(scenario: string, kernel: string): void;
  step(text: string): void;
  end(ok: boolean): void;
}

export function silentProgress(): Progress {
  return { begin() {}, step() {}, end() {} };
}

export function stderrProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = stream.isTTY === true;
  let label = '';
  let started = 0;
  let current = '';
  let ticker: NodeJS.Timeout | null = null;
  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  const draw = (): void => {
    const width = stream.columns ?? 100;
    const line = `${label} ${elapsed().padStart(6)}  ${current}`;
    stream.write(`\r\x1b[2K${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}`);
  };
  return {
    begin(scenario, kernel) {
      label = `[${scenario} @ ${kernel}]`;
      started = Date.now();
      current = 'starting';
      if (tty) {
        draw();
        ticker = setInterval(draw, 200);
        ticker.unref();
      } else {
        stream.write(`${label} starting\n`);
      }
    },
    step(text) {
      current = text;
      if (tty) draw();
      else stream.write(`${label} +${elapsed()} ${text}\n`);
    },
    end(ok) {
      if (ticker !== null) clearInterval(ticker);
      ticker = null;
      if (tty) stream.write('\r\x1b[2K');
      else stream.write(`${label} done in ${elapsed()}: ${ok ? 'as predicted' : 'MISMATCH'}\n`);
    },
  };
}
