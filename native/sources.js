#!/usr/bin/env node
// The addon's C++ sources: the one list that both builds read (binding.gyp through gyp's `<!@(...)`, and
// CMakeLists.txt through execute_process), so that node-gyp and cmake-js cannot compile different files.
//   node native/sources.js [PLATFORM]   prints the sources for PLATFORM (default: this one), one per line,
//                                       as paths relative to the package root.
'use strict';

const common = [
  'addon.cc', 'errors.cc', 'sockaddr.cc', 'socket.cc', 'io.cc', 'select.cc', 'poll.cc', 'resolve.cc',
  'constants.cc', 'selectors.cc', 'watcher.cc', 'netdb.cc', 'dup.cc', 'msg.cc',
];
// epoll and io_uring are Linux's; elsewhere stubs say hasEpoll / hasIoUring = false and throw ENOSYS.
// sendfile(2) likewise: Linux's signature; elsewhere a stub that throws ENOSYS.
const perPlatform = (platform) => (platform === 'linux'
  ? ['epoll_linux.cc', 'sendfile_linux.cc', 'uring_linux.cc']
  : ['epoll_stub.cc', 'sendfile_stub.cc', 'uring_stub.cc']);

const platform = process.argv[2] || process.platform;
process.stdout.write([...common, ...perPlatform(platform)].map((f) => `native/${f}`).join('\n') + '\n');
