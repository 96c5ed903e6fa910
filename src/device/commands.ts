// The `twostep device …` command group (SPEC §6, the terminal device app): pair, run, status, forget.
import { type Command, Option } from 'commander';
import { DeviceAppError } from './app-error.ts';
import { forgetDevice } from './forget.ts';
import { pairDevice } from './pair.ts';
import { runDevice } from './run.ts';
import { deviceStatus } from './status.ts';

function fileOption(): Option {
  return new Option('--file <path>', 'the device file (default: ~/.config/twostep/device.json)').env(
    'TWOSTEP_DEVICE_FILE',
  );
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

/** Runs a command to its exit code; a DeviceAppError becomes its sentence on stderr and its exit code. */
function action<T>(command: (options: T) => Promise<number>): (options: T) => Promise<void> {
  return async (options) => {
    let code: number;
    try {
      code = await command(options);
    } catch (error) {
      if (!(error instanceof DeviceAppError)) throw error;
      process.stderr.write(`${error.message}\n`);
      code = error.exitCode;
    }
    // Open sockets, timers and stdin readers must not keep the process alive once the command is done;
    // pipes may be asynchronous (macOS), so let the output drain first.
    await flushed(process.stdout);
    await flushed(process.stderr);
    process.exit(code);
  };
}

export function registerDeviceCommands(program: Command): void {
  const device = program
    .command('device')
    .description('this computer as a trusted device: pair it, show the codes pushed to it, check or remove it')
    .addHelpText(
      'after',
      `
Examples:
  twostep device pair --server https://twostep.example --name "Work laptop"
  twostep device run
  twostep device status
  twostep device forget`,
    );

  device
    .command('pair')
    .description('sign in, register this computer as a device of your account and save its key (file mode 0600)')
    .requiredOption('--server <url>', 'the Twostep server, e.g. https://twostep.example')
    .option('--name <name>', 'how the device is listed on your account (default: this computer’s host name)')
    .addOption(fileOption())
    .addHelpText(
      'after',
      '\nAsks for your email and password; the password is not shown. When stdin is not a terminal, they are read as two lines.',
    )
    .action(action(pairDevice));

  device
    .command('run')
    .description(
      'stay connected and show each code pushed to this device; n + Enter: "This wasn\'t me", q + Enter: quit',
    )
    .addOption(fileOption())
    .option('--json', 'print one JSON line per event instead of text')
    .action(action(runDevice));

  device
    .command('status')
    .description('show the paired device and whether the server accepts and trusts it right now')
    .addOption(fileOption())
    .option('--json', 'print one JSON object instead of text')
    .action(action(deviceStatus));

  device
    .command('forget')
    .description('remove this device from your account and delete its file')
    .addOption(fileOption())
    .option('--force', 'delete the file even when the server cannot be reached')
    .action(action(forgetDevice));
}
