/**
 * The demo's protocol session (lib/demo/session.ts) on its own, without sockets: the output queue every
 * readiness model sends from. Its order, partial sends and backpressure are what the demo tests see only
 * through a slow or flooding client; here each step is checked. (start() and close() log to stdout, so they
 * are left to the demo tests.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HIGH_WATER, Session } from '../lib/demo/session';

const msg = Buffer.from('hello');
const exit = Buffer.from(' exit\n');

/** Makes the next answers `texts` (protocol.ts's answer() picks with Math.random). */
function answersWillBe(...texts: number[]): void {
  const spy = vi.spyOn(Math, 'random');
  for (const t of texts) spy.mockReturnValueOnce((t - 0.5) / 100); // mid-step: no rounding at the edges
}

/** Takes the output `chunk` bytes at a time until none waits; returns it as text. */
function drain(s: Session, chunk = Infinity): string {
  let text = '';
  for (let out = s.output; out !== null; out = s.output) {
    const n = Math.min(chunk, out.length);
    text += out.subarray(0, n).toString();
    s.sent(n);
  }
  return text;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Session output', () => {
  it('sends each answer once, in the order the messages came', () => {
    const s = new Session('t');
    expect(s.output).toBeNull();
    expect(s.wantsOutput).toBe(false);
    answersWillBe(7, 42, 100);
    expect(s.received(msg, msg.length)).toBe(true);
    expect(s.output!.toString()).toBe('7');
    expect(s.received(msg, msg.length)).toBe(true);
    expect(s.received(msg, msg.length)).toBe(true);
    expect(s.output!.toString()).toBe('7'); // the oldest first
    expect(s.wantsOutput).toBe(true);
    expect(drain(s)).toBe('742100');
    expect(s.wantsOutput).toBe(false);
    expect(s.output).toBeNull();
  });

  it('resumes a partly sent answer where it stopped, then goes on with the next', () => {
    const s = new Session('t');
    answersWillBe(100, 58);
    s.received(msg, msg.length);
    s.received(msg, msg.length);
    s.sent(1);
    expect(s.output!.toString()).toBe('00');
    s.sent(1);
    expect(s.output!.toString()).toBe('0');
    s.sent(1);
    expect(s.output!.toString()).toBe('58');
    expect(drain(s, 1)).toBe('58');
  });

  it('keeps working after it was emptied, many times over', () => {
    const s = new Session('t');
    let expected = '';
    let got = '';
    for (let i = 0; i < 50; i++) {
      const burst = (i % 4) + 1; // 1 to 4 answers queued before any is sent
      const texts = Array.from({ length: burst }, (_, j) => ((i * 7 + j * 13) % 100) + 1);
      answersWillBe(...texts);
      for (let j = 0; j < burst; j++) s.received(msg, msg.length);
      expected += texts.join('');
      got += drain(s, (i % 3) + 1);
    }
    expect(got).toBe(expected);
  });

  it('takes no input while HIGH_WATER bytes wait, and takes it again once they are sent', () => {
    const s = new Session('t');
    vi.spyOn(Math, 'random').mockReturnValue(0.995); // every answer "100": 3 bytes
    let queued = 0;
    while (s.wantsInput) {
      s.received(msg, msg.length);
      queued += 3;
    }
    expect(queued).toBeGreaterThanOrEqual(HIGH_WATER);
    expect(queued - 3).toBeLessThan(HIGH_WATER);
    s.sent(3);
    expect(s.wantsInput).toBe(true);
    expect(drain(s)).toBe('100'.repeat(queued / 3 - 1));
  });

  it('is done once exit came and every answer due is out, not before', () => {
    const s = new Session('t');
    answersWillBe(3);
    s.received(msg, msg.length);
    expect(s.received(exit, exit.length)).toBe(false);
    expect(s.wantsInput).toBe(false);
    expect(s.done).toBe(false); // "3" is still due
    expect(drain(s)).toBe('3');
    expect(s.done).toBe(true);
  });

  it('sends nothing more once aborted (the peer is gone)', () => {
    const s = new Session('t');
    s.received(msg, msg.length);
    s.received(msg, msg.length);
    s.abort();
    expect(s.output).toBeNull();
    expect(s.done).toBe(true);
    expect(s.wantsInput).toBe(false);
  });
});
