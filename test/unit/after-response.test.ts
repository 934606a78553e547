// The runner of work done after an answer (server/http/after-response.ts): work starts only after
// the caller returned, a failure is logged with its label and never becomes an unhandled
// rejection, and idle() waits for what is running (shutdown relies on it). Issue 9, point 16.
import { Writable } from 'node:stream';
import { BackgroundWork } from '../../server/http/after-response';
import { createLogger } from '../../server/logger';

function logged() {
  const lines: string[] = [];
  const logger = createLogger('info', new Writable({ write: (chunk, _enc, cb) => (lines.push(...String(chunk).split('\n').filter(Boolean)), cb()) }));
  return { lines, logger };
}

describe('BackgroundWork', () => {
  it('starts work after the caller returned and waits for it in idle()', async () => {
    const { logger } = logged();
    const work = new BackgroundWork(logger);
    const order: string[] = [];
    work.run('a', async () => void order.push('work'));
    order.push('answered');
    await work.idle();
    expect(order).toEqual(['answered', 'work']);
  });

  it('logs a failure with its label, never rejects, and keeps running later work', async () => {
    const { lines, logger } = logged();
    const work = new BackgroundWork(logger);
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      work.run('forgot-password', async () => {
        throw new Error('database unreachable');
      });
      let ran = false;
      work.run('next', async () => void (ran = true));
      await work.idle();
      await new Promise((r) => setImmediate(r));
      expect(ran).toBe(true);
      expect(unhandled).toEqual([]);
      const line = lines.map((l) => JSON.parse(l)).find((l) => l.msg === 'background work failed');
      expect(line).toMatchObject({ level: 50, work: 'forgot-password', err: { message: 'database unreachable' } });
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
