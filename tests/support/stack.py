"""A real mailer-fake-ses and mailerd on loopback with a temporary database,
for the Python tests (tests/ui/, tests/docs/). Every wait is bounded."""
import json
import os
import re
import signal
import subprocess
import sys
import time

k_wait_seconds = 30
k_access_key_id = 'AKIDPYTEST'
k_secret_access_key = 'py-test-secret'


def fail(message):
    raise AssertionError(message)


def wait_for(what, check, seconds=k_wait_seconds):
    """Polls `check` until it returns a true value (returned) or `seconds` pass."""
    deadline = time.monotonic() + seconds
    last_error = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as error:  # e.g. a stale element while a page re-renders
            last_error = error
        time.sleep(0.1)
    fail(f'timed out after {seconds} s waiting for {what}' + (f' (last error: {last_error})' if last_error else ''))


class Child:
    """A process whose JSON log names the port it bound."""

    def __init__(self, argv, log_path, env=None):
        self.log_path = log_path
        self.log = open(log_path, 'wb')
        self.process = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.port = wait_for(f'{argv[0]} to listen', self._port, 20)

    def _port(self):
        if self.process.poll() is not None:
            fail(f'{self.log_path}: exited with {self.process.returncode}:\n{self.text()}')
        match = re.search(r'"listening".*?"port":(\d+)', self.text())
        return int(match.group(1)) if match else None

    def text(self):
        with open(self.log_path, 'rb') as f:
            return f.read().decode(errors='replace')

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def create_key(mailerctl, db, name, scope):
    """`mailerctl keys create --json`: {"id", "key", ...}."""
    out = subprocess.run([mailerctl, '--db', db, 'keys', 'create', '--name', name, '--scope', scope, '--json'],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def start_stack(mailerd, fake_ses, work, fake_args=(), env=None):
    """Starts mailer-fake-ses (with `fake_args`) and mailerd pointed at it, with
    its database at work/mailer.db and `env` (MAILER_* overrides) on top.
    Returns (children, base URL, database path); stop the children in reverse."""
    children = [Child([fake_ses, '--port', '0', '--no-store', '--access-key-id', k_access_key_id,
                       '--secret-access-key', k_secret_access_key, *fake_args],
                      os.path.join(work, 'fake-ses.log'))]
    db = os.path.join(work, 'mailer.db')
    full_env = dict(os.environ, MAILER_DB_PATH=db, MAILER_SERVER_PORT='0', MAILER_SERVER_LISTEN='127.0.0.1',
                    MAILER_LOG_FORMAT='json', MAILER_SES_ENDPOINT=f'http://127.0.0.1:{children[0].port}',
                    MAILER_SES_ACCESS_KEY_ID=k_access_key_id, MAILER_SES_SECRET_ACCESS_KEY=k_secret_access_key,
                    AWS_EC2_METADATA_DISABLED='true', MAILER_UNSUBSCRIBE_SECRET='py-test-unsubscribe-0123456789')
    full_env.update(env or {})
    try:
        children.append(Child([mailerd], os.path.join(work, 'mailerd.log'), full_env))
    except Exception:
        children[0].stop()
        raise
    return children, f'http://127.0.0.1:{children[1].port}', db


def stop_all(children, show_logs, tail_bytes=4000):
    """Stops `children` (newest first); when `show_logs`, prints the end of each log."""
    for child in reversed(children):
        child.stop()
        if show_logs:
            print(f'---- {child.log_path}\n{child.text()[-tail_bytes:]}', file=sys.stderr)
