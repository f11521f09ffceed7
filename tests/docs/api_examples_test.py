#!/usr/bin/python3
"""Runs the curl examples of docs/API.md, in the order a reader meets them,
against a real mailerd (with mailer-fake-ses as SES, on loopback, with a
temporary database), so that the document cannot drift from the product.

Usage: api_examples_test.py API_MD MAILERD MAILERCTL FAKE_SES

The database starts as the README's tour leaves it (an admin key and a
template named "welcome"), so the examples must not clash with the tour.

Each ```sh block is split into commands the way bash would (quotes,
backslash continuations, comments). Every curl command runs in bash as
written, with MAILERD and KEY (an admin key) exported, and must answer the
status its comment gives (`# 204`, `# 202 {...}` on the same or the next
line), else a 2xx. Two things are adapted, and only these: an id in the
document (tmpl_..., bat_..., msg_..., whk_..., whd_..., key_...) stands for
the latest real id of that kind the examples have produced so far (an
object's "id", or the first of a list's), and the webhook URL of the
example is a local receiver, so that nothing leaves the machine.
"""
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'support'))
from stack import create_key, fail, start_stack, stop_all  # noqa: E402

k_id = re.compile(r'\b(tmpl|bat|msg|whk|whd|key)_[0-9A-Za-z]+\b')
k_example_webhook = 'https://hooks.example.com/mailerd'
k_status_comment = re.compile(r'^#\s*(\d{3})\b')


def sh_blocks(markdown):
    """The ```sh blocks of `markdown`, as (first line number, text)."""
    blocks, current, start = [], None, 0
    for number, line in enumerate(markdown.splitlines(), 1):
        if current is None and line.strip() == '```sh':
            current, start = [], number + 1
        elif current is not None and line.strip() == '```':
            blocks.append((start, '\n'.join(current)))
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def split_commands(text, first_line):
    """Splits shell text into (line, command, comment) the way bash reads it:
    a newline ends a command unless it is quoted or escaped; `#` at a word's
    start begins a comment. A comment alone on a line is attached to the
    command before it (the doc's "# 202 {...}" lines)."""
    commands = []
    command, comment = '', ''
    quote = None
    line = first_line
    start_line = line
    i = 0
    while i < len(text):
        c = text[i]
        if quote:
            command += c
            if c == quote:
                quote = None
            elif c == '\\' and quote == '"' and i + 1 < len(text):
                command += text[i + 1]
                i += 1
        elif c in '\'"':
            quote = c
            command += c
        elif c == '\\' and i + 1 < len(text) and text[i + 1] == '\n':
            command += ' '
            i += 1
            line += 1
        elif c == '#' and (not command or command[-1] in ' \t\n'):
            end = text.find('\n', i)
            end = len(text) if end == -1 else end
            comment += text[i:end]
            i = end - 1
        elif c == '\n':
            commands.append((start_line, command.strip(), comment.strip()))
            command, comment = '', ''
            start_line = line + 1
        else:
            command += c
        if c == '\n':
            line += 1
        i += 1
    if quote:
        fail(f'docs/API.md line {start_line}: unterminated {quote} quote')
    commands.append((start_line, command.strip(), comment.strip()))
    merged = []
    for entry in commands:
        if not entry[1] and entry[2] and merged and not merged[-1][2]:
            merged[-1] = (merged[-1][0], merged[-1][1], entry[2])
        elif entry[1]:
            merged.append(entry)
    return merged


class Receiver(http.server.BaseHTTPRequestHandler):
    """The example webhook's stand-in: takes every delivery."""
    received = 0

    def do_POST(self):
        self.rfile.read(int(self.headers.get('Content-Length', 0)))
        Receiver.received += 1
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class Examples:
    def __init__(self, env, webhook_url):
        self.env = env
        self.webhook_url = webhook_url
        self.latest = {}

    def adapt(self, command):
        def real_id(match):
            return self.latest.get(match.group(1), match.group(0))
        return k_id.sub(real_id, command).replace(k_example_webhook, self.webhook_url)

    def remember(self, body):
        try:
            document = json.loads(body)
        except ValueError:
            return
        if isinstance(document, dict) and isinstance(document.get('data'), list) and document['data']:
            document = document['data'][0]
        if isinstance(document, dict) and isinstance(document.get('id'), str):
            match = k_id.fullmatch(document['id'])
            if match:
                self.latest[match.group(1)] = document['id']

    def wait_until_attempted(self, command):
        """A replay needs a delivery that is no longer pending; the test delivery
        the example before it queued goes out a moment after its 202."""
        match = re.search(r'\$MAILERD(/v1/admin/webhooks/\S+/deliveries/whd_\w+)/replay', command)
        if not match:
            return
        request = urllib.request.Request(self.env['MAILERD'] + match.group(1),
                                         headers={'Authorization': 'Bearer ' + self.env['KEY']})
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with urllib.request.urlopen(request, timeout=5) as answer:
                if json.load(answer).get('status') != 'pending':
                    return
            time.sleep(0.05)

    def wait_until_dead_lettered(self, command):
        """The DLQ examples need the refused message there; sends are paced at
        the account's rate, so it may still be queued behind the others."""
        if '/v1/admin/dlq?limit' not in command:
            return
        request = urllib.request.Request(self.env['MAILERD'] + '/v1/admin/dlq?limit=1',
                                         headers={'Authorization': 'Bearer ' + self.env['KEY']})
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with urllib.request.urlopen(request, timeout=5) as answer:
                if json.load(answer).get('data'):
                    return
            time.sleep(0.05)

    def run(self, line, command, comment):
        adapted = self.adapt(command)
        self.wait_until_attempted(adapted)
        self.wait_until_dead_lettered(adapted)
        # curl writes the status after the body: the last line of the output.
        script = 'curl() { command curl --max-time 10 -w "\\n%{http_code}" "$@"; }\n' + adapted
        deadline = time.monotonic() + 10
        while True:
            result = subprocess.run(['bash', '-c', script], env=self.env, capture_output=True, text=True, timeout=30)
            if result.returncode != 0:
                fail(f'docs/API.md line {line}: exit {result.returncode}: {adapted}\n{result.stderr}')
            body, _, status = result.stdout.rpartition('\n')
            # An erasure while a message to the address is in flight is refused
            # with "erase again once they finish"; do what the document says.
            if status != '409' or 'again once' not in body or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        expected = k_status_comment.match(comment)
        ok = status == expected.group(1) if expected else status.startswith('2')
        if not ok:
            want = expected.group(1) if expected else '2xx'
            fail(f'docs/API.md line {line}: HTTP {status}, the document says {want}:\n  {adapted}\n  {body[:600]}')
        self.remember(body)
        print(f'line {line}: {status} {adapted[:100]}')


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    api_md, mailerd, mailerctl, fake_ses = sys.argv[1:]
    with open(api_md, encoding='utf-8') as f:
        blocks = sh_blocks(f.read())
    if not blocks:
        fail(f'{api_md}: no ```sh blocks')
    work = tempfile.mkdtemp(prefix='mailerd-docs-test.')
    receiver = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    children, ok = [], False
    try:
        # archive@example.com is refused by the fake: that message lands in the
        # dead-letter queue the DLQ examples act on.
        children, base, db = start_stack(
            mailerd, fake_ses, work, fake_args=('--reject-address', 'archive@example.com'),
            env={'MAILER_WEBHOOKS_ALLOW_HTTP': 'true', 'MAILER_WEBHOOKS_ALLOW_PRIVATE_TARGETS': 'true'})
        key = create_key(mailerctl, db, 'me', 'admin')['key']
        # As after the README's tour: its template "welcome" exists, and the
        # document's examples must not clash with it.
        text_file = os.path.join(work, 'welcome.txt')
        with open(text_file, 'w', encoding='utf-8') as f:
            f.write('Hi {{first_name}}')
        subprocess.run([mailerctl, '--db', db, 'templates', 'create', '--name', 'welcome', '--subject', 'Hi',
                        '--text-file', text_file], check=True, capture_output=True)
        env = dict(os.environ, MAILERD=base, KEY=key)
        examples = Examples(env, f'http://127.0.0.1:{receiver.server_address[1]}/mailerd')
        count = 0
        for first_line, text in blocks:
            for line, command, comment in split_commands(text, first_line):
                if command.startswith('export '):
                    continue  # the set-up the test has done itself
                if not command.startswith('curl '):
                    fail(f'docs/API.md line {line}: not a curl command: {command}')
                examples.run(line, command, comment)
                count += 1
        print(f'docs examples: {count} commands OK')
        ok = True
    finally:
        receiver.shutdown()
        stop_all(children, show_logs=not ok)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
