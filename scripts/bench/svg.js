// Small SVG charts for the benchmark results, written by hand (no dependencies): time per readiness call against
// N (log-log, sockfd selectors and C, per system call), server CPU per message per model at one connection count,
// and how each server's CPU per message (as a ratio to C's) changes from 10 to 10000 connections.
'use strict';

const COLORS = { select: '#d62728', poll: '#1f77b4', epoll: '#2ca02c' };
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

function readinessChart(rows, machine) {
  const W = 720, H = 440, L = 70, R = 170, T = 50, B = 60;
  const ok = rows.filter((r) => !r.refused);
  const ns = [...new Set(ok.map((r) => r.n))].sort((a, b) => a - b);
  const ys = ok.flatMap((r) => [r.c, r.selector]);
  const x = (n) => L + ((Math.log10(n) - Math.log10(ns[0])) / (Math.log10(ns[ns.length - 1]) - Math.log10(ns[0]) || 1)) * (W - L - R);
  const lo = Math.floor(Math.log10(Math.min(...ys)));
  const hi = Math.ceil(Math.log10(Math.max(...ys)));
  const y = (v) => T + (1 - (Math.log10(v) - lo) / (hi - lo)) * (H - T - B);
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n`;
  s += `<rect width="${W}" height="${H}" fill="white"/>\n`;
  s += `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">Time per readiness call, N watched fds, one ready, timeout 0</text>\n`;
  s += `<text x="${W / 2}" y="38" text-anchor="middle" fill="#555">${esc(machine)}</text>\n`;
  for (let e = lo; e <= hi; e++) {
    const v = 10 ** e;
    s += `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v >= 1e3 ? `${v / 1e3} us` : `${v} ns`}</text>\n`;
  }
  for (const n of ns) s += `<line x1="${x(n)}" x2="${x(n)}" y1="${T}" y2="${H - B}" stroke="#eee"/><text x="${x(n)}" y="${H - B + 18}" text-anchor="middle">${n}</text>\n`;
  s += `<text x="${(L + W - R) / 2}" y="${H - 15}" text-anchor="middle">N (watched fds)</text>\n`;
  let ly = T + 10;
  for (const call of ['select', 'poll', 'epoll']) {
    for (const [field, dash, label] of [['selector', '', 'sockfd'], ['c', '6,4', 'C']]) {
      const pts = ok.filter((r) => r.call === call).sort((a, b) => a.n - b.n).map((r) => `${x(r.n).toFixed(1)},${y(r[field]).toFixed(1)}`);
      if (pts.length === 0) continue;
      s += `<polyline fill="none" stroke="${COLORS[call]}" stroke-width="2" stroke-dasharray="${dash}" points="${pts.join(' ')}"/>\n`;
      s += `<line x1="${W - R + 15}" x2="${W - R + 45}" y1="${ly}" y2="${ly}" stroke="${COLORS[call]}" stroke-width="2" stroke-dasharray="${dash}"/><text x="${W - R + 50}" y="${ly + 4}">${call} (${label})</text>\n`;
      ly += 18;
    }
  }
  return `${s}</svg>\n`;
}

function cpuChart(rows, connections, machine) {
  const data = rows.filter((r) => r.connections === connections && r.cpuPerMessageUs > 0);
  const W = 720, H = 60 + data.length * 30 + 50, L = 110, R = 120, T = 50;
  const max = Math.max(...data.map((r) => r.cpuPerMessageUs)) * 1.1;
  const x = (v) => L + (v / max) * (W - L - R);
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n`;
  s += `<rect width="${W}" height="${H}" fill="white"/>\n`;
  s += `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">Server CPU time per message, ${connections} lock-step connections</text>\n`;
  s += `<text x="${W / 2}" y="38" text-anchor="middle" fill="#555">${esc(machine)}</text>\n`;
  data.forEach((r, i) => {
    const yy = T + 10 + i * 30;
    const color = r.server === 'C' ? '#555' : r.server === 'node:net' ? '#ff7f0e' : '#1f77b4';
    s += `<text x="${L - 8}" y="${yy + 15}" text-anchor="end">${esc(r.server)}</text>`;
    s += `<rect x="${L}" y="${yy}" width="${(x(r.cpuPerMessageUs) - L).toFixed(1)}" height="20" fill="${color}"/>`;
    s += `<text x="${x(r.cpuPerMessageUs) + 6}" y="${yy + 15}">${r.cpuPerMessageUs.toFixed(2)} us${r.cpuVsC ? ` (${r.cpuVsC.toFixed(2)}x C)` : ''}</text>\n`;
  });
  return `${s}</svg>\n`;
}

const PALETTE = ['#000000', '#ff7f0e', '#2ca02c', '#1f77b4', '#9467bd', '#d62728', '#8c564b', '#e377c2', '#17becf', '#bcbd22',
  '#7f7f7f', '#aec7e8', '#98df8a', '#ff9896'];

/**
 * CPU per message as a ratio to C (C is the line at 1.0), against the number of connections (log scale), one
 * line per server measured at three connection counts or more, C and node:net first.
 */
function scalingChart(rows, machine) {
  const ok = rows.filter((r) => r.cpuVsC > 0);
  const servers = [...new Set(ok.map((r) => r.server))]
    .filter((name) => ok.filter((r) => r.server === name).length >= 3)
    .sort((a, b) => (a === 'C' ? -1 : b === 'C' ? 1 : a === 'node:net' ? -1 : b === 'node:net' ? 1 : 0));
  const used = ok.filter((r) => servers.includes(r.server));
  if (used.length === 0) return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>\n';
  const W = 820, H = 440, L = 60, R = 280, T = 50, B = 60;
  const ns = [...new Set(used.map((r) => r.connections))].sort((a, b) => a - b);
  const x = (n) => L + ((Math.log10(n) - Math.log10(ns[0])) / (Math.log10(ns[ns.length - 1]) - Math.log10(ns[0]) || 1)) * (W - L - R);
  const top = Math.ceil(Math.max(...used.map((r) => r.cpuVsC)) * 2) / 2;
  const y = (v) => T + (1 - (v - 0) / top) * (H - T - B);
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">\n`;
  s += `<rect width="${W}" height="${H}" fill="white"/>\n`;
  s += `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">Server CPU per message as a multiple of the C epoll server's</text>\n`;
  s += `<text x="${W / 2}" y="38" text-anchor="middle" fill="#555">${esc(machine)}</text>\n`;
  for (let v = 0; v <= top + 1e-9; v += 0.5) {
    s += `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" stroke="${v === 1 ? '#999' : '#ddd'}"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${v.toFixed(1)}x</text>\n`;
  }
  for (const n of ns) s += `<line x1="${x(n)}" x2="${x(n)}" y1="${T}" y2="${H - B}" stroke="#eee"/><text x="${x(n)}" y="${H - B + 18}" text-anchor="middle">${n}</text>\n`;
  s += `<text x="${(L + W - R) / 2}" y="${H - 15}" text-anchor="middle">lock-step connections</text>\n`;
  servers.forEach((name, i) => {
    const color = PALETTE[i % PALETTE.length];
    const pts = used.filter((r) => r.server === name).sort((a, b) => a.connections - b.connections);
    s += `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((r) => `${x(r.connections).toFixed(1)},${y(r.cpuVsC).toFixed(1)}`).join(' ')}"/>\n`;
    for (const r of pts) s += `<circle cx="${x(r.connections).toFixed(1)}" cy="${y(r.cpuVsC).toFixed(1)}" r="3" fill="${color}"/>`;
    const ly = T + 10 + i * 18;
    const last = pts[pts.length - 1];
    s += `<line x1="${W - R + 15}" x2="${W - R + 45}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/><text x="${W - R + 50}" y="${ly + 4}">${esc(name)} (${last.cpuVsC.toFixed(2)}x at ${last.connections})</text>\n`;
  });
  return `${s}</svg>\n`;
}

module.exports = { readinessChart, cpuChart, scalingChart };
