/**
 * Running a command in a container: a hijacked connection carries stdin one way and the
 * (multiplexed unless TTY) output the other; the exit code comes from inspecting the exec.
 */
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type Dockerode from 'dockerode';
import { RuntimeError } from '../../core/errors.js';
import type { ExecOptions } from '../driver.js';
import { FrameDecoder } from './multiplex.js';

/** Runs `options.command` in `container`; resolves to its exit code. */
export async function runExec(container: Dockerode.Container, options: ExecOptions): Promise<number> {
  const stdin = options.stdin;
  const exec = await container.exec({
    Cmd: options.command,
    AttachStdin: stdin !== undefined,
    AttachStdout: true,
    AttachStderr: true,
    Tty: options.tty,
    ...(options.env && { Env: options.env }),
    ...(options.user !== undefined && { User: options.user }),
    ...(options.workdir !== undefined && { WorkingDir: options.workdir }),
  });
  const socket = await exec.start({ hijack: true, stdin: stdin !== undefined, Detach: false, Tty: options.tty });

  if (stdin) {
    // Ending our side (half-close) is how the command sees EOF on its stdin.
    stdin.pipe(socket);
    stdin.on('error', (error: Error) => socket.destroy(error));
  }
  try {
    await pumpOutput(socket, options);
  } catch (error) {
    // A command that exits before reading all its stdin closes the connection under our
    // writes; the output is complete and the exit code tells the rest.
    const code = (error as { code?: unknown }).code;
    if (!stdin || (code !== 'EPIPE' && code !== 'ECONNRESET')) throw error;
  } finally {
    stdin?.unpipe(socket);
    socket.destroy();
  }
  return exitCodeOf(exec);
}

async function pumpOutput(socket: Duplex, options: ExecOptions): Promise<void> {
  const decoder = options.tty ? undefined : new FrameDecoder();
  for await (const chunk of socket) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    const pieces = decoder ? decoder.push(bytes) : [{ stream: 'stdout' as const, data: bytes }];
    for (const piece of pieces) {
      const target = piece.stream === 'stderr' ? options.stderr : options.stdout;
      // Respect the caller's back-pressure rather than buffering a chatty command's output.
      if (!target.write(piece.data)) await once(target, 'drain');
    }
  }
}

/** The output can end just before the Engine records the exit; poll briefly for it. */
async function exitCodeOf(exec: Dockerode.Exec): Promise<number> {
  for (let attempt = 0; attempt < 250; attempt++) {
    const info = await exec.inspect();
    if (!info.Running && info.ExitCode !== null) return info.ExitCode;
    await sleep(20);
  }
  throw new RuntimeError('EXEC_EXIT_UNKNOWN', `exec ${exec.id.slice(0, 12)} closed its output but did not exit within 5s`);
}
