#!/usr/bin/python3
"""The dashboard (/ui/) in a real headless Chromium against a real mailerd
with mailer-fake-ses as SES, all on loopback with a temporary database.

Usage: dashboard_test.py MAILERD MAILERCTL FAKE_SES ARTIFACT_DIR

Drives every page as an operator would: a wrong key, then an admin key; a
batch followed to 100 %; a slow batch paused and resumed; message search
and timeline; suppressions; the DLQ purged after its confirmation; a key
created and revoked; a read key that sees actions disabled and gets the
API's 403 spelt out; a revoked key sent back to the login. Screenshots of
each page go to ARTIFACT_DIR. Every wait is bounded. Chromium, chromedriver
and python3-selenium come from Debian (`make test` installs them); when one
is missing the test fails: it never downloads a browser.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'support'))
from stack import create_key, fail, start_stack, stop_all, wait_for  # noqa: E402

k_csp = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
         "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
k_chromium = '/usr/bin/chromium'
k_chromedriver = '/usr/bin/chromedriver'
k_wait_seconds = 30
# A hostile string where an address goes: it must show as text, never as markup.
k_hostile = '<img src=x onerror=alert(1)>'


class Api:
    def __init__(self, base, key):
        self.base = base
        self.key = key

    def call(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        request.add_header('Authorization', f'Bearer {self.key}')
        if data is not None:
            request.add_header('Content-Type', 'application/json')
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return json.loads(text) if text else None


def start_browser():
    for path in (k_chromium, k_chromedriver):
        if not os.access(path, os.X_OK):
            fail(f'{path} is missing: install Debian\'s chromium and chromium-driver (make test does)')
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        fail('python3-selenium is missing (make test installs it)')
    options = webdriver.ChromeOptions()
    options.binary_location = k_chromium
    for argument in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu',
                     '--window-size=1280,900', '--no-first-run', '--disable-extensions'):
        options.add_argument(argument)
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    # An explicit driver path: Selenium Manager (which downloads) never runs.
    return webdriver.Chrome(service=Service(k_chromedriver), options=options)


class Dashboard:
    def __init__(self, driver, base, artifacts):
        from selenium.webdriver.common.by import By
        self.by = By
        self.driver = driver
        self.base = base
        self.artifacts = artifacts
        self.console = []

    def find(self, css):
        return self.driver.find_element(self.by.CSS_SELECTOR, css)

    def find_all(self, css):
        return self.driver.find_elements(self.by.CSS_SELECTOR, css)

    def text(self, css):
        """The text of the first match; '' when none, or when it was just replaced."""
        from selenium.common.exceptions import StaleElementReferenceException
        try:
            elements = self.find_all(css)
            return elements[0].text if elements else ''
        except StaleElementReferenceException:
            return ''

    def go(self, hash_route):
        self.driver.get(f'{self.base}/ui/{hash_route}')

    def wait_text(self, css, pattern, seconds=k_wait_seconds):
        found = wait_for(f'{css} to match {pattern!r}', lambda: re.search(pattern, self.text(css)), seconds)
        return found

    def click(self, css):
        # The live pages re-render every second: find and click in one go, retried.
        def attempt():
            element = self.find(css)
            if not element.is_enabled():
                return False
            element.click()
            return True
        wait_for(f'{css} to be clickable', attempt)

    def fill(self, css, text):
        """Types `text` into the field `css`, again if the page re-rendered meanwhile."""
        def attempt():
            field = self.find(css)
            field.clear()
            field.send_keys(text)
            return self.find(css).get_attribute('value') == text
        wait_for(f'{css} to take {text!r}', attempt)

    def submit(self, css):
        self.click(f'{css} button[type=submit]')

    def login(self, key):
        self.go('#/')
        self.fill('#login-key', key)
        self.submit('#login-form')

    def shot(self, name):
        self.collect_console()
        path = os.path.join(self.artifacts, f'{name}.png')
        self.driver.save_screenshot(path)
        print(f'screenshot {path}')

    def collect_console(self):
        self.console.extend(self.driver.get_log('browser'))


def check_headers(base):
    with urllib.request.urlopen(f'{base}/ui/', timeout=10) as response:
        headers = response.headers
        if headers['Content-Security-Policy'] != k_csp:
            fail(f'CSP header is {headers["Content-Security-Policy"]!r}')
        for name, want in (('X-Content-Type-Options', 'nosniff'), ('Referrer-Policy', 'no-referrer')):
            if headers[name] != want:
                fail(f'{name} is {headers[name]!r}')
        page = response.read().decode()
    if '<script>' in page or 'style=' in page or '<style' in page:
        fail('index.html has inline script or style')


def batch_body(emails, name):
    return {'from': 'Shop <news@example.com>', 'content': {'subject': 'Hello', 'text': 'Hello'},
            'recipients': emails, 'skip_invalid': True, 'metadata': {'name': name}}


def scenario(ui, admin_api, keys, mailerctl, db):
    d = ui
    # A wrong key: the login again, with a reason.
    d.login('mk_this_key_does_not_exist')
    d.wait_text('#login-error', 'unknown or revoked')
    d.shot('login')

    d.login(keys['admin']['key'])
    d.wait_text('#who-scope', '^admin$')
    storage = d.driver.execute_script(
        'return [sessionStorage.length, localStorage.length, document.cookie, location.href]')
    if storage[0] != 1 or storage[1] != 0 or storage[2] != '' or keys['admin']['key'] in storage[3]:
        fail(f'the key must live in sessionStorage only: {storage}')

    # Overview, with a batch sent and a message in the DLQ.
    recipients = [f'r{i}@example.com' for i in range(20)] + ['dead@example.com', 'r1@example.com', k_hostile]
    first = admin_api.call('POST', '/v1/batches', batch_body(recipients, 'first'))
    d.go(f'#/batches/{first["id"]}')
    d.wait_text('#batch-progress .progress-text', '^100 %$')
    d.wait_text('#batch-status-text', '^completed$')
    invalid = d.text('#batch-body')
    if k_hostile not in invalid:
        fail(f'the invalid row is not shown as text: {invalid!r}')
    if d.find_all('#batch-body img'):
        fail('an address became markup')
    d.shot('batch-completed')

    d.go('#/')
    wait_for('the overview charts', lambda: len(d.find_all('svg.chart')) >= 4)
    d.wait_text('.figures', 'in flight')
    d.shot('overview')

    d.go('#/batches')
    wait_for('the batch list', lambda: first['id'] in d.text('#batch-list'))
    from selenium.webdriver.support.ui import Select
    Select(d.find('#batch-status')).select_by_value('completed')
    wait_for('the filter in the URL', lambda: 'status=completed' in d.driver.current_url)
    d.wait_text('#batch-list', first['id'])
    d.wait_text('#batch-list', '100 %')
    d.shot('batches')

    # A slow batch: paused and resumed from its page.
    slow = admin_api.call('POST', '/v1/batches',
                          batch_body([f's{i}@example.com' for i in range(60)], 'slow'))
    d.go(f'#/batches/{slow["id"]}')
    d.click('#batch-pause')
    d.wait_text('#batch-status-text', '^paused$')
    paused = admin_api.call('GET', f'/v1/batches/{slow["id"]}')
    if paused['status'] != 'paused' or d.text('#batch-progress .progress-text') == '100 %':
        fail(f'the batch did not pause before the end: {paused["status"]} {paused["states"]}')
    d.shot('batch-paused')
    d.click('#batch-resume')
    d.wait_text('#batch-status-text', '^(sending|queued|completed)$')
    d.wait_text('#batch-progress .progress-text', '^100 %$', 60)
    d.wait_text('#batch-status-text', '^completed$')
    if d.find_all('#batch-sending'):
        fail('a batch without configuration set or list management shows them')

    # A batch's configuration set and SES list management, as text; scheduled
    # far ahead so it never sends, then cancelled.
    listed = admin_api.call('POST', '/v1/batches', dict(
        batch_body(['listed@example.com'], 'listed'), send_at='2099-01-01T00:00:00Z',
        configuration_set='marketing-set',
        list_management={'contact_list_name': 'customers', 'topic_name': 'orders'}))
    d.go(f'#/batches/{listed["id"]}')
    d.wait_text('#batch-status-text', '^scheduled$')
    d.wait_text('#batch-sending', 'marketing-set')
    d.wait_text('#batch-sending', 'contact list customers, topic orders')
    admin_api.call('POST', f'/v1/batches/{listed["id"]}/cancel')

    # Messages: by address, then by the SES MessageId, then one timeline.
    d.go('#/messages?q=r3%40example.com')
    d.wait_text('#message-results', 'SENT')
    message_id = re.search(r'msg_\w+', d.text('#message-results')).group(0)
    ses_id = admin_api.call('GET', f'/v1/messages/{message_id}')['ses_message_id']
    d.go('#/messages')
    d.wait_text('#message-results', 'Search by recipient address')
    d.fill('#message-search', ses_id)
    d.submit('form.search')
    d.wait_text('#message-results', message_id)
    d.click('#message-results a')
    d.wait_text('#message-timeline', 'SENT')
    d.shot('message')

    # Suppressions: add one, find it (and only it), miss another.
    admin_api.call('POST', '/v1/suppressions', {'email': 'other@example.com'})
    d.go('#/suppressions')
    d.wait_text('#suppression-results', 'other@example.com')
    d.fill('#suppression-add-email', 'blocked@example.com')
    d.click('#suppression-add')
    d.wait_text('#flash', 'added')
    d.wait_text('#suppression-results', 'blocked@example.com')
    d.go('#/suppressions?q=blocked%40example.com&reason=')
    wait_for('the search to find blocked@ alone', lambda: 'blocked@example.com' in d.text('#suppression-results')
             and 'other@example.com' not in d.text('#suppression-results'))
    d.shot('suppressions')
    d.go('#/suppressions?q=nobody%40example.com')
    d.wait_text('#suppression-results', 'not suppressed')

    # DLQ: the message SES refused; purged only after the confirmation.
    d.go('#/dlq')
    d.wait_text('#dlq-list', 'dead@example.com')
    d.shot('dlq')
    d.click('#dlq-purge')
    wait_for('the confirmation', lambda: d.find('#confirm-no'))
    d.click('#confirm-no')
    if 'dead@example.com' not in d.text('#dlq-list'):
        fail('declining the purge removed messages')
    d.click('#dlq-purge')
    d.click('#confirm-yes')
    d.wait_text('#flash', 'purged')
    d.wait_text('#dlq-list', 'empty')

    # Keys: one created (its secret shown once) and revoked.
    d.go('#/keys')
    d.fill('#key-name', 'ci-bot')
    d.click('#key-create')
    secret = d.wait_text('#key-secret', r'\S{20,}').group(0)
    if not secret:
        fail('no secret shown')
    d.wait_text('#key-list', 'ci-bot')
    d.shot('keys')
    def revoke_ci_bot():
        rows = [r for r in d.find_all('#key-list tbody tr') if 'ci-bot' in r.text]
        if rows:
            rows[0].find_element(d.by.CSS_SELECTOR, 'button').click()
        return rows
    wait_for('the ci-bot row', revoke_ci_bot)
    d.click('#confirm-yes')
    d.wait_text('#flash', 'revoked')

    # A narrow window.
    d.driver.set_window_size(420, 900)
    d.go('#/batches')
    d.wait_text('#batch-list', first['id'])
    d.shot('batches-narrow')
    d.driver.set_window_size(1280, 900)

    # A read key: sees, may not act; the API's 403 is spelt out.
    d.find('#logout').click()
    d.login(keys['read']['key'])
    d.wait_text('#who-scope', '^read$')
    d.go(f'#/batches/{slow["id"]}')
    d.wait_text('#batch-status-text', 'completed')
    d.go(f'#/batches/{first["id"]}')
    d.wait_text('#batch-status-text', 'completed')
    for css in ('#batch-pause', '#batch-resume', '#batch-cancel'):
        if d.find(css).is_enabled():
            fail(f'{css} is enabled for a read key')
    d.go('#/suppressions')
    d.wait_text('#suppression-results', 'blocked@example.com')
    if d.find('#suppression-add').is_enabled() or any(b.is_enabled() for b in d.find_all('#suppression-results button')):
        fail('suppression actions are enabled for a read key')
    d.go('#/dlq')
    d.wait_text('#flash', r'Not allowed with this key \(scope read\)')
    d.shot('read-key')

    # Revoked while the tab is open: the next call brings the login back.
    subprocess.run([mailerctl, '--db', db, 'keys', 'revoke', keys['read']['id']], check=True, capture_output=True)
    d.go('#/batches')
    d.wait_text('#login-error', 'no longer accepted')
    if d.driver.execute_script('return sessionStorage.length') != 0:
        fail('the revoked key stayed in sessionStorage')


# Chrome reports each refused fetch as "Failed to load resource"; the
# scenario causes 401 (wrong or revoked key), 403 (read key) and 404 (an
# address not suppressed) on purpose. Anything else, CSP refusals included,
# is an error of the page.
def unexpected_console(entries):
    expected = re.compile(r'Failed to load resource: the server responded with a status of 40[134]')
    return [e for e in entries if e.get('level') == 'SEVERE' and not expected.search(e.get('message', ''))]


def main():
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    mailerd, mailerctl, fake_ses, artifacts = sys.argv[1:]
    os.makedirs(artifacts, exist_ok=True)
    work = tempfile.mkdtemp(prefix='mailerd-ui-test.')
    children = []
    driver = None
    ok = False
    try:
        started, base, db = start_stack(
            mailerd, fake_ses, work, fake_args=('--reject-address', 'dead@example.com'),
            # Slow enough that a 60-recipient batch can be paused mid-way (6 s).
            env={'MAILER_SES_MAX_SEND_RATE': '10'})
        children.extend(started)
        check_headers(base)
        keys = {scope: create_key(mailerctl, db, f'ui-{scope}', scope) for scope in ('admin', 'read')}
        driver = start_browser()
        ui = Dashboard(driver, base, artifacts)
        try:
            scenario(ui, Api(base, keys['admin']['key']), keys, mailerctl, db)
        except Exception:
            ui.shot('failure')
            raise
        ui.collect_console()
        bad = unexpected_console(ui.console)
        if bad:
            fail('browser console errors:\n' + '\n'.join(e['message'] for e in bad))
        ok = True
        print('dashboard test: OK')
    finally:
        if driver is not None:
            driver.quit()
        stop_all(children, show_logs=not ok)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
