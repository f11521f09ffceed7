// mailer-fake-ses called by the AWS SDK for JavaScript v3 (@aws-sdk/client-sesv2,
// pinned in package-lock.json), whose SES v2 model knows Attachments: the
// fake must take what the SDK sends, answer what SES answers, and keep every
// attachment's bytes. Every wait is bounded.
// Usage: node fake_ses_test.mjs MAILER_FAKE_SES
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetAccountCommand, SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';

const accessKeyId = 'AKIDJSTEST';
const secretAccessKey = 'js-test-secret';
const region = 'eu-west-1';

function fail(message) {
  throw new Error(message);
}

// Starts the fake and resolves with its port, read from its "listening" line.
function startFake(binary, outDir) {
  const child = spawn(binary, ['--port', '0', '--access-key-id', accessKeyId, '--secret-access-key', secretAccessKey,
    '--region', region, '--out-dir', outDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const port = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "listening" line in 20 s:\n${log}`)), 20000);
    const read = (chunk) => {
      log += chunk;
      const match = /"listening".*?"port":(\d+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.on('exit', (code) => reject(new Error(`mailer-fake-ses exited with ${code}:\n${log}`)));
  });
  return { child, port, log: () => log };
}

function client(port, secret = secretAccessKey) {
  return new SESv2Client({
    region, endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1,
    credentials: { accessKeyId, secretAccessKey: secret },
  });
}

// The .eml's part for `filename`, its base64 lines decoded.
function partBytes(eml, filename) {
  const at = eml.indexOf(`filename="${filename}"`);
  if (at < 0) fail(`no part for ${filename} in the .eml`);
  const start = eml.indexOf('\r\n\r\n', at) + 4;
  const end = eml.indexOf('\r\n--', start);
  return Buffer.from(eml.slice(start, end).replace(/\r\n/g, ''), 'base64');
}

async function checkSend(ses, outDir) {
  const pdf = Buffer.concat([Buffer.from('%PDF-1.4\n'), randomBytes(30000)]);
  const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), randomBytes(5000)]);
  const sent = await ses.send(new SendEmailCommand({
    FromEmailAddress: 'billing@example.com',
    Destination: { ToAddresses: ['ana@example.com'] },
    Content: {
      Simple: {
        Subject: { Data: 'Invoice', Charset: 'UTF-8' },
        Body: { Html: { Data: '<p>Invoice <img src="cid:logo"></p>', Charset: 'UTF-8' } },
        Attachments: [
          { FileName: 'invoice.pdf', RawContent: pdf, ContentType: 'application/pdf', ContentDisposition: 'ATTACHMENT' },
          { FileName: 'logo.png', RawContent: png, ContentType: 'image/png', ContentDisposition: 'INLINE',
            ContentId: 'logo' },
        ],
      },
    },
  }));
  const eml = readFileSync(join(outDir, `${sent.MessageId}.eml`), 'utf8');
  if (!partBytes(eml, 'invoice.pdf').equals(pdf)) fail('invoice.pdf differs after the round trip');
  if (!partBytes(eml, 'logo.png').equals(png)) fail('logo.png differs after the round trip');
  if (!eml.includes('Content-ID: <logo>')) fail(`the inline part has no Content-ID:\n${eml.slice(0, 2000)}`);
}

async function expectError(promise, name, status) {
  try {
    await promise;
  } catch (error) {
    if (error.name !== name || error.$metadata?.httpStatusCode !== status) {
      fail(`expected ${name} ${status}, got ${error.name} ${error.$metadata?.httpStatusCode}: ${error.message}`);
    }
    return;
  }
  fail(`expected ${name}; the call succeeded`);
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'js-fake-ses-'));
  const fake = startFake(process.argv[2], join(work, 'out'));
  let ok = false;
  try {
    const port = await fake.port;
    const ses = client(port);
    const account = await ses.send(new GetAccountCommand({}));
    if (account.SendQuota?.MaxSendRate !== 14 || account.SendingEnabled !== true) {
      fail(`GetAccount: ${JSON.stringify(account)}`);
    }
    await checkSend(ses, join(work, 'out'));
    await expectError(ses.send(new SendEmailCommand({
      FromEmailAddress: 'billing@example.com', Destination: { ToAddresses: ['ana@example.com'] },
      Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } },
        Attachments: [{ FileName: 'setup.exe', RawContent: Buffer.from('MZ') }] } },
    })), 'BadRequestException', 400);
    await expectError(client(port, 'wrong').send(new GetAccountCommand({})), 'SignatureDoesNotMatch', 403);
    ok = true;
  } finally {
    fake.child.kill('SIGTERM');
    if (!ok) console.error(`---- mailer-fake-ses log\n${fake.log().slice(-4000)}`);
    rmSync(work, { recursive: true, force: true });
  }
  console.log('AWS SDK for JavaScript v3 against mailer-fake-ses: GetAccount, SendEmail with attachments, errors');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
