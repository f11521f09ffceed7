"""mailer-fake-ses called by boto3 (Debian's python3-boto3), as an application
using the AWS SDK for Python would call SES: every operation mailerd uses must
answer what real SES answers, parsed by the SDK's own SES v2 model.

Usage: boto3_fake_ses_test.py MAILER_FAKE_SES
"""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..', 'support'))
import stack  # noqa: E402

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

k_region = 'eu-west-1'


def client(port, secret=stack.k_secret_access_key):
    return boto3.client('sesv2', region_name=k_region, endpoint_url=f'http://127.0.0.1:{port}',
                        aws_access_key_id=stack.k_access_key_id, aws_secret_access_key=secret,
                        config=Config(retries={'max_attempts': 1}, connect_timeout=5, read_timeout=10))


def error_code(call):
    try:
        call()
    except ClientError as error:
        return error.response['Error']['Code'], error.response['ResponseMetadata']['HTTPStatusCode']
    stack.fail('the call succeeded; an SES error was expected')


def check_account(ses):
    account = ses.get_account()
    quota = account['SendQuota']
    if quota['MaxSendRate'] != 14 or quota['Max24HourSend'] != 50000:
        stack.fail(f'GetAccount SendQuota: {quota}')
    if account['SendingEnabled'] is not True or account['ProductionAccessEnabled'] is not True:
        stack.fail(f'GetAccount switches: {account}')


def check_send(ses, out_dir):
    sent = ses.send_email(
        FromEmailAddress='Shop <news@example.com>',
        Destination={'ToAddresses': ['ana@example.com'], 'CcAddresses': ['bo@example.com']},
        ReplyToAddresses=['help@example.com'],
        Content={'Simple': {'Subject': {'Data': 'Grüße', 'Charset': 'UTF-8'},
                            'Body': {'Text': {'Data': 'Hallo Ana', 'Charset': 'UTF-8'},
                                     'Html': {'Data': '<p>Hallo Ana</p>', 'Charset': 'UTF-8'}}}},
        EmailTags=[{'Name': 'batch', 'Value': 'b-1'}],
        ConfigurationSetName='mailerd')
    message_id = sent['MessageId']
    stored = os.path.join(out_dir, message_id + '.json')
    if not os.path.exists(stored):
        stack.fail(f'SendEmail answered MessageId {message_id!r} but {stored} was not written')
    with open(stored, encoding='utf-8') as f:
        body = json.load(f)
    request = body['Request']
    if request['Destination']['ToAddresses'] != ['ana@example.com']:
        stack.fail(f'stored request: {request}')
    if request['Content']['Simple']['Subject']['Data'] != 'Grüße':
        stack.fail(f'stored subject: {request["Content"]["Simple"]["Subject"]}')
    with open(os.path.join(out_dir, message_id + '.eml'), 'rb') as f:
        eml = f.read().decode('utf-8')
    for needle in ('ana@example.com', 'Hallo Ana', 'help@example.com'):
        if needle not in eml:
            stack.fail(f'{needle!r} missing from the .eml:\n{eml[:2000]}')


def check_errors(ses, port):
    code = error_code(lambda: ses.send_email(
        FromEmailAddress='news@example.com', Destination={'ToAddresses': []},
        Content={'Simple': {'Subject': {'Data': 's'}, 'Body': {'Text': {'Data': 't'}}}}))
    if code != ('BadRequestException', 400):
        stack.fail(f'SendEmail without recipients: {code}')
    wrong = client(port, secret='not-the-secret')
    code = error_code(wrong.get_account)
    if code != ('SignatureDoesNotMatch', 403):
        stack.fail(f'a wrong secret: {code}')


def main():
    fake_ses = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix='boto3-fake-ses-') as work:
        out_dir = os.path.join(work, 'out')
        fake = stack.Child([fake_ses, '--port', '0', '--access-key-id', stack.k_access_key_id,
                            '--secret-access-key', stack.k_secret_access_key, '--region', k_region,
                            '--out-dir', out_dir], os.path.join(work, 'fake-ses.log'))
        ok = False
        try:
            ses = client(fake.port)
            check_account(ses)
            check_send(ses, out_dir)
            check_errors(ses, fake.port)
            ok = True
        finally:
            stack.stop_all([fake], show_logs=not ok)
    print('boto3 against mailer-fake-ses: GetAccount, SendEmail and errors as SES answers them')


if __name__ == '__main__':
    main()
