/**
 * What /proc says of another process (the demo server in a child process): its fds, counted and by kind, its
 * TCP sockets, its resident memory and fd limit; and the listen overflows of this network namespace.
 */
import * as fs from 'node:fs';

/**
 * `pid` and its descendants (a prefork server's child processes), from /proc/<pid>/task/<tid>/children: the
 * server's fds are theirs together.
 */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const todo = [pid];
  while (todo.length > 0) {
    const p = todo.pop()!;
    out.push(p);
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(`/proc/${p}/task`);
    } catch {
      continue; // exited meanwhile
    }
    for (const t of tasks) {
      try {
        for (const c of fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(' ')) if (c.trim() !== '') todo.push(Number(c));
      } catch {
        /* gone meanwhile */
      }
    }
  }
  return out;
}

/** The number of fds open in process `pid` and its descendants. */
export function fdCount(pid: number): number {
  let n = 0;
  for (const p of processTree(pid)) {
    try {
      n += fs.readdirSync(`/proc/${p}/fd`).length;
    } catch (err) {
      if (p === pid) throw err; // a child may exit while it is counted; the server itself must be there
    }
  }
  return n;
}

/** The fds of `pid` and its descendants counted by kind: `socket:`, `pipe:`, `anon_inode:[eventpoll]`, `/dev/null`... */
export function fdKindCounts(pid: number): Map<string, number> {
  const kinds = new Map<string, number>();
  for (const p of processTree(pid)) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${p}/fd`);
    } catch (err) {
      if (p === pid) throw err;
      continue;
    }
    for (const fd of fds) {
      let target = '?';
      try {
        target = fs.readlinkSync(`/proc/${p}/fd/${fd}`).replace(/\[\d+\]$/, '');
      } catch {
        /* closed meanwhile */
      }
      kinds.set(target, (kinds.get(target) ?? 0) + 1);
    }
  }
  return kinds;
}

/** fdKindCounts as text, for diagnostics. */
export function fdKinds(pid: number): string {
  return [...fdKindCounts(pid)].map(([k, n]) => `${n} x ${k}`).join(', ');
}

const TCP_STATES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING'];

/** The TCP sockets among the fds of `pid`: local port, remote port and state of each, for diagnostics. */
export function tcpSockets(pid: number): string[] {
  const byInode = new Map<string, string>();
  for (const table of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10) continue;
      const port = (a: string): number => parseInt(a.split(':')[1], 16);
      byInode.set(f[9], `${port(f[1])}->${port(f[2])} ${TCP_STATES[parseInt(f[3], 16)] ?? f[3]}`);
    }
  }
  const found: string[] = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let target = '';
    try {
      target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue;
    }
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) found.push(`fd ${fd}: ${byInode.get(m[1]) ?? 'not TCP'}`);
  }
  return found;
}

/** VmRSS of `pid`, in KiB. */
export function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]);
}

/** The soft RLIMIT_NOFILE of `pid` (or 'self'). */
export function openFileLimit(pid: number | 'self'): number {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
  if (!m) throw new Error(`no "Max open files" in /proc/${pid}/limits`);
  return m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

/** TcpExt ListenOverflows of this network namespace: SYNs and handshakes dropped because an accept queue was full. */
export function listenOverflows(): number {
  const lines = fs.readFileSync('/proc/net/netstat', 'utf8').split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0].split(/\s+/);
  const values = lines[1].split(/\s+/);
  const i = names.indexOf('ListenOverflows');
  if (i < 0) throw new Error('no ListenOverflows in /proc/net/netstat');
  return Number(values[i]);
}

/**
 * Whether every thread of `pid` is stopped (SIGSTOP): the state letter of /proc/<pid>/task/<tid>/stat. A stop
 * takes effect when each thread next leaves the kernel, not when kill() returns: a thread woken from a wait by
 * the signal may still finish that wait (a select that saw data arrive in between returns it) before it stops.
 */
export function stopped(pid: number): boolean {
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return false; // gone
  }
  for (const t of tasks) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
    } catch {
      continue; // a thread that just ended
    }
    // "tid (comm) S ...": comm may hold spaces and parentheses, the state follows the last ')'.
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    if (state !== 'T' && state !== 't') return false;
  }
  return true;
}
