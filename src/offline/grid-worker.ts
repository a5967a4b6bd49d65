// The entry of a grid worker thread (grid-pool.ts starts it from dist/offline/grid-worker.js):
// runs the cells it is handed, one at a time, and posts each result or error back. A replay
// cell opens and streams the capture itself; only the options and the result cross threads.

import { parentPort, threadId } from 'node:worker_threads';
import { SyndropError } from '../errors.js';
import { runCell, threadCpuSeconds, type CellError, type CellReply, type CellRequest } from './grid-cell.js';

function cellError(error: unknown): CellError {
  if (error instanceof SyndropError) return { code: error.code, exitCode: error.exitCode, message: error.message, stack: null };
  if (error instanceof Error) return { code: null, exitCode: null, message: error.message, stack: error.stack ?? null };
  return { code: null, exitCode: null, message: String(error), stack: null };
}

const port = parentPort;
if (port === null) throw new Error('grid-worker.js runs as a worker thread of the grid pool, not on its own');

port.on('message', (request: CellRequest) => {
  const cpuStart = threadCpuSeconds();
  let reply: CellReply;
  try {
    const result = runCell(request.kind, request.options);
    reply = { index: request.index, threadId, cpuSeconds: threadCpuSeconds() - cpuStart, result };
    port.postMessage(reply);
  } catch (error) {
    // Also a result that cannot be cloned: the pool must hear about the cell either way.
    reply = { index: request.index, threadId, cpuSeconds: threadCpuSeconds() - cpuStart, error: cellError(error) };
    port.postMessage(reply);
  }
});
