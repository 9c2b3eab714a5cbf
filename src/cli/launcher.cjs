#!/usr/bin/env node
// Starts the bundled CLI (flotilla-main.cjs beside this file) with a V8 code cache, so a command
// does not spend most of its time compiling JavaScript: `up` with nothing to do is about a third
// faster with it (bench/README.md). Node.js 22.1+ has this built in (module.enableCompileCache);
// on Node.js 20 the same is done with vm.Script's cachedData. The cache lives in the user's cache
// directory and is keyed by the bundle's size and time; V8 itself rejects a cache that does not
// match the source, which then is rewritten. Any failure here only costs speed, never correctness.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const main = path.join(__dirname, 'flotilla-main.cjs');

function cacheDirectory() {
  if (process.env.FLOTILLA_NO_CODE_CACHE) return undefined;
  const base = process.env.XDG_CACHE_HOME || path.join(require('node:os').homedir(), '.cache');
  return path.join(base, 'flotilla');
}

function runWithVmCache(directory) {
  const stat = fs.statSync(main);
  const cacheFile = path.join(directory, `code-${stat.size}-${Math.trunc(stat.mtimeMs)}.bin`);
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    cachedData = undefined;
  }
  const source = fs.readFileSync(main, 'utf8');
  const vm = require('node:vm');
  const script = new vm.Script(Module.wrap(source), { filename: main, cachedData });
  if (!cachedData || script.cachedDataRejected) {
    // Written after the command ran, so the functions it used are compiled and cached too.
    process.once('beforeExit', () => {
      try {
        fs.mkdirSync(directory, { recursive: true, mode: 0o700 });
        const temporary = `${cacheFile}.${process.pid}`;
        fs.writeFileSync(temporary, script.createCachedData(), { mode: 0o600 });
        fs.renameSync(temporary, cacheFile);
      } catch {
        // A read-only home or a full disk: run uncached next time too.
      }
    });
  }
  const mainModule = new Module(main, module);
  mainModule.filename = main;
  mainModule.paths = Module._nodeModulePaths(__dirname);
  const wrapper = script.runInThisContext();
  wrapper.call(mainModule.exports, mainModule.exports, Module.createRequire(main), mainModule, main, __dirname);
}

const directory = cacheDirectory();
if (directory && typeof Module.enableCompileCache === 'function') {
  Module.enableCompileCache(directory);
  require(main);
} else if (directory) {
  runWithVmCache(directory);
} else {
  require(main);
}
