import { test } from 'node:test';
import assert from 'node:assert/strict';
import { findRateLimitHints, findResetHint, type RateLimitHint } from '../../src/core/ratelimit/hints';

// Wednesday 2026-12-02 13:40:00 UTC = 14:40 in Berlin (CET, UTC+1).
const NOW = Date.UTC(2026, 11, 2, 13, 40, 0);
const BERLIN = { defaultZone: 'Europe/Berlin' };
const SEC = 1000;
const MIN = 60 * SEC;

function hints(text: string, expected: RateLimitHint, opts = BERLIN): void {
  assert.deepEqual(findRateLimitHints(text, NOW, opts), expected, text.slice(0, 200));
}

const OPENAI_RPM = `Traceback (most recent call last):
  File "/work/run.py", line 42, in <module>
    resp = client.chat.completions.create(model="gpt-4o", messages=msgs)
  File "/usr/lib/python3.12/site-packages/openai/_base_client.py", line 1059, in request
    raise self._make_status_error_from_response(err.response) from None
openai.RateLimitError: Error code: 429 - {'error': {'message': 'Rate limit reached for gpt-4o in organization org-x on requests per min (RPM): Limit 500, Used 500, Requested 1. Please try again in 120ms. Visit https://platform.openai.com/account/rate-limits to learn more.', 'type': 'requests', 'param': None, 'code': 'rate_limit_exceeded'}}`;

const OPENAI_QUOTA = `openai.RateLimitError: Error code: 429 - {'error': {'message': 'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.', 'type': 'insufficient_quota', 'param': None, 'code': 'insufficient_quota'}}`;

const ANTHROPIC_BODY = `anthropic.RateLimitError: Error code: 429 - {'type': 'error', 'error': {'type': 'rate_limit_error', 'message': 'This request would exceed the rate limit for your organization (3f6e1b) of 50,000 input tokens per minute. For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later. You may also contact sales at https://www.anthropic.com/contact-sales to discuss your options for a rate limit increase.'}}`;
const anthropicHeaders = (retryAfter: string, inputRemaining = '0') =>
  `headers: Headers({'date': 'Wed, 02 Dec 2026 13:40:00 GMT', 'content-type': 'application/json', ${retryAfter}'anthropic-ratelimit-requests-limit': '50', 'anthropic-ratelimit-requests-remaining': '49', 'anthropic-ratelimit-requests-reset': '2026-12-02T13:40:01Z', 'anthropic-ratelimit-input-tokens-limit': '50000', 'anthropic-ratelimit-input-tokens-remaining': '${inputRemaining}', 'anthropic-ratelimit-input-tokens-reset': '2026-12-02T13:40:05Z', 'anthropic-ratelimit-output-tokens-limit': '10000', 'anthropic-ratelimit-output-tokens-remaining': '10000', 'anthropic-ratelimit-output-tokens-reset': '2026-12-02T13:40:30Z', 'request-id': 'req_011CVh', 'x-should-retry': 'true'})`;

const ANTHROPIC_CREDIT = `anthropic.BadRequestError: Error code: 400 - {'type': 'error', 'error': {'type': 'invalid_request_error', 'message': 'Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.'}}`;

const GEMINI_GRPC = `google.api_core.exceptions.ResourceExhausted: 429 You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits. [violations {
  quota_metric: "generativelanguage.googleapis.com/generate_content_free_tier_requests"
  quota_id: "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
  quota_dimensions {
    key: "model"
    value: "gemini-1.5-flash"
  }
  quota_value: 15
}
, links {
  description: "Learn more about Gemini API quotas"
  url: "https://ai.google.dev/gemini-api/docs/rate-limits"
}
, retry_delay {
  seconds: 34
}
]`;

const geminiRest = (quotaId: string, retry: string) => `{
  "error": {
    "code": 429,
    "message": "Resource has been exhausted (e.g. check quota).",
    "status": "RESOURCE_EXHAUSTED",
    "details": [
      {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [{ "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests", "quotaId": "${quotaId}" }]
      }${retry}
    ]
  }
}`;
const RETRY_INFO = `,
      {
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        "retryDelay": "30s"
      }`;

const GENAI_PYTHON = `google.genai.errors.ClientError: 429 RESOURCE_EXHAUSTED. {'error': {'code': 429, 'message': 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\\n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_free_tier_requests, limit: 10, model: gemini-2.5-flash\\nPlease retry in 30.5s.', 'status': 'RESOURCE_EXHAUSTED', 'details': [{'@type': 'type.googleapis.com/google.rpc.QuotaFailure', 'violations': [{'quotaMetric': 'generativelanguage.googleapis.com/generate_content_free_tier_requests', 'quotaId': 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', 'quotaValue': '10'}]}, {'@type': 'type.googleapis.com/google.rpc.RetryInfo', 'retryDelay': '30s'}]}}`;

const curl = (retryAfter: string, remainingRequests: string, resetTokens: string) => `HTTP/1.1 429 Too Many Requests\r
date: Wed, 02 Dec 2026 13:40:00 GMT\r
content-type: application/json; charset=utf-8\r
${retryAfter}x-ratelimit-limit-requests: 500\r
x-ratelimit-limit-tokens: 30000\r
x-ratelimit-remaining-requests: ${remainingRequests}\r
x-ratelimit-remaining-tokens: 29000\r
x-ratelimit-reset-requests: 1s\r
x-ratelimit-reset-tokens: ${resetTokens}\r
x-request-id: req_abc\r
\r
{
    "error": {
        "message": "Rate limit reached for gpt-4o-mini in organization org-x on requests per min (RPM): Limit 500, Used 500, Requested 1.",
        "type": "requests",
        "param": null,
        "code": "rate_limit_exceeded"
    }
}`;

test('OpenAI Python SDK: per-minute limit with "try again in", and insufficient_quota', () => {
  hints(OPENAI_RPM, { signal: 'rate_limit_exceeded', resetAt: NOW + 120, resetForm: 'try-again-in' });
  hints(OPENAI_RPM.replace('120ms', '6.5s'), { signal: 'rate_limit_exceeded', resetAt: NOW + 6500, resetForm: 'try-again-in' });
  hints(OPENAI_RPM.replace('120ms', '1m30s'), { signal: 'rate_limit_exceeded', resetAt: NOW + 90 * SEC, resetForm: 'try-again-in' });
  hints(OPENAI_QUOTA, { signal: 'insufficient_quota', quota: 'insufficient_quota' });
  const rpd = OPENAI_RPM.replace('requests per min (RPM)', 'requests per day (RPD)').replace('120ms', '7m12s');
  hints(rpd, { signal: 'rate_limit_exceeded', resetAt: NOW + 432 * SEC, resetForm: 'try-again-in', quota: 'requests per day' });
});

test('Anthropic: the reset headers follow the exhausted kind; retry-after rounds the same instant up to whole seconds', () => {
  const headers = anthropicHeaders(`'retry-after': '5', `);
  hints(`${ANTHROPIC_BODY}\n${headers}`, { signal: 'rate_limit_error', resetAt: NOW + 5 * SEC, resetForm: 'anthropic-ratelimit-reset' });
  hints(`${ANTHROPIC_BODY}\n${anthropicHeaders(`'retry-after': '9', `)}`, {
    signal: 'rate_limit_error',
    resetAt: NOW + 9 * SEC,
    resetForm: 'retry-after',
  });
  hints(`${ANTHROPIC_BODY}\n${anthropicHeaders('')}`, {
    signal: 'rate_limit_error',
    resetAt: NOW + 5 * SEC,
    resetForm: 'anthropic-ratelimit-reset',
  });
  // Nothing at 0: the latest of the kinds.
  assert.deepEqual(findResetHint(anthropicHeaders('', '12'), NOW), { resetAt: NOW + 30 * SEC, form: 'anthropic-ratelimit-reset' });
  hints(ANTHROPIC_BODY, { signal: 'rate_limit_error' });
  hints(ANTHROPIC_CREDIT, { signal: 'credit balance is too low', quota: 'credit balance is too low' });
});

test('Gemini: RESOURCE_EXHAUSTED with a retry delay is a per-minute limit, per-day or reset-less is a quota', () => {
  hints(GEMINI_GRPC, { signal: 'ResourceExhausted', resetAt: NOW + 34 * SEC, resetForm: 'retry-delay' });
  hints(GEMINI_GRPC.replace('seconds: 34', 'seconds: 34\n  nanos: 500000000'), {
    signal: 'ResourceExhausted',
    resetAt: NOW + 34_500,
    resetForm: 'retry-delay',
  });
  hints(geminiRest('GenerateRequestsPerMinutePerProjectPerModel-FreeTier', RETRY_INFO), {
    signal: 'RESOURCE_EXHAUSTED',
    resetAt: NOW + 30 * SEC,
    resetForm: 'retry-delay',
  });
  hints(geminiRest('GenerateRequestsPerDayPerProjectPerModel-FreeTier', RETRY_INFO), {
    signal: 'RESOURCE_EXHAUSTED',
    resetAt: NOW + 30 * SEC,
    resetForm: 'retry-delay',
    quota: 'RESOURCE_EXHAUSTED',
  });
  hints(geminiRest('GenerateRequestsPerMinutePerProjectPerModel-FreeTier', ''), {
    signal: 'RESOURCE_EXHAUSTED',
    quota: 'RESOURCE_EXHAUSTED',
  });
  // The message's "Please retry in 30.5s" outranks the RetryInfo detail.
  hints(GENAI_PYTHON, { signal: 'RESOURCE_EXHAUSTED', resetAt: NOW + 30_500, resetForm: 'try-again-in' });
  hints(`retryDelay: '31.5s'`, { resetAt: NOW + 31_500, resetForm: 'retry-delay' });
});

test('curl -i dump: status line, retry-after, then the x-ratelimit reset of the exhausted kind or the later one', () => {
  const signal = 'HTTP/1.1 429 Too Many Requests';
  // retry-after: 1 is the exhausted kind's 1 s reset, rounded: the same instant.
  hints(curl('retry-after: 1\r\n', '0', '2ms'), { signal, resetAt: NOW + SEC, resetForm: 'x-ratelimit-reset' });
  // A sliding window frees a slot in 120 ms; retry-after says 1: the exact reset is taken.
  hints(curl('retry-after: 1\r\n', '0', '2ms').replace(/x-ratelimit-reset-requests: [^\r\n]*/, 'x-ratelimit-reset-requests: 120ms'), {
    signal,
    resetAt: NOW + 120,
    resetForm: 'x-ratelimit-reset',
  });
  hints(curl('retry-after: 30\r\n', '0', '2ms'), { signal, resetAt: NOW + 30 * SEC, resetForm: 'retry-after' });
  hints(curl('', '0', '6m0s'), { signal, resetAt: NOW + SEC, resetForm: 'x-ratelimit-reset' });
  hints(curl('', '3', '6m0s'), { signal, resetAt: NOW + 6 * MIN, resetForm: 'x-ratelimit-reset' });
  hints(curl('', '3', '2m30.5s'), { signal, resetAt: NOW + 150_500, resetForm: 'x-ratelimit-reset' });
  hints(curl('', '3', '20ms').replace('HTTP/1.1', 'HTTP/2').replace(' Too Many Requests', ''), {
    signal: 'HTTP/2 429',
    resetAt: NOW + SEC,
    resetForm: 'x-ratelimit-reset',
  });
});

test('AWS Bedrock, Azure OpenAI, Claude Code and Codex CLI texts', () => {
  hints(
    'botocore.errorfactory.ThrottlingException: An error occurred (ThrottlingException) when calling the InvokeModel operation (reached max retries: 4): Too many requests, please wait before trying again.',
    { signal: 'ThrottlingException' },
  );
  const azure = `openai.RateLimitError: Error code: 429 - {'error': {'code': '429', 'message': 'Requests to the ChatCompletions_Create Operation under Azure OpenAI API version 2024-02-15-preview have exceeded call rate limit of your current OpenAI S0 pricing tier. Please retry after 7 seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.'}}`;
  hints(azure, { signal: 'RateLimitError', resetAt: NOW + 7 * SEC, resetForm: 'try-again-in' });
  hints(azure.replace('openai.RateLimitError: ', ''), { signal: "'code': '429'", resetAt: NOW + 7 * SEC, resetForm: 'try-again-in' });
  const at = Date.UTC(2026, 11, 2, 18, 0, 0);
  hints(`Claude AI usage limit reached|${at / 1000}`, {
    signal: 'usage limit reached',
    resetAt: at,
    resetForm: 'epoch',
    quota: 'usage limit reached',
  });
  hints(`Claude AI usage limit reached|${at}`, {
    signal: 'usage limit reached',
    resetAt: at,
    resetForm: 'epoch',
    quota: 'usage limit reached',
  });
  // The classic example epoch (2024) is in the past: no reset.
  hints('Claude AI usage limit reached|1733150400', { signal: 'usage limit reached', quota: 'usage limit reached' });
  hints('5-hour limit reached ∙ resets 3pm', {
    signal: '5-hour limit reached',
    resetAt: Date.UTC(2026, 11, 2, 14, 0),
    resetForm: 'resets-at',
    quota: '5-hour limit reached',
  });
  hints('Claude usage limit reached. Your limit will reset at 5pm (Europe/London). Created 2026-01-01.', {
    signal: 'usage limit reached',
    resetAt: Date.UTC(2026, 11, 2, 17, 0),
    resetForm: 'resets-at',
    quota: 'usage limit reached',
  });
  hints("■ You've hit your usage limit. Upgrade to Pro (https://chatgpt.com/explore/pro) or try again in 1 day 2 hours 3 minutes.", {
    signal: 'hit your usage limit',
    resetAt: NOW + (26 * 60 + 3) * MIN,
    resetForm: 'try-again-in',
    quota: 'hit your usage limit',
  });
});

test('signals need an anchor: status fields and phrases, never a bare 429 or "limit"', () => {
  for (const [text, signal] of [
    ['requests.exceptions.HTTPError: 429 Client Error: Too Many Requests for url: https://api.x.com/v1', 'Too Many Requests'],
    ['status 429', 'status 429'],
    ['status_code=429', 'status_code=429'],
    ['{"status": 429}', '"status": 429'],
    ['{"code": 429}', '"code": 429'],
    ['Error code: 429', 'Error code: 429'],
    ['429 Too Many Requests', '429 Too Many Requests'],
    ['Rate limit exceeded', 'Rate limit exceeded'],
    ['TooManyRequestsException: slow down', 'TooManyRequestsException'],
    ['QuotaExceeded: Azure quota exceeded for this subscription', 'quota exceeded'],
  ] as const) {
    assert.equal(findRateLimitHints(text, NOW).signal, signal, text);
  }
  const none: string[] = [
    'Traceback (most recent call last):\n  File "x.py", line 429, in main\n    raise ValueError("bad input")\nValueError: bad input',
    'processed 429 items',
    'epoch 3/10 loss=0.429 acc=0.91 done; rate limit: 500 requests/min, daily limit: 10000, usage limit 5$',
    'OSError: [Errno 122] Disk quota exceeded: /scratch/out.json',
    'ConnectionResetError: [Errno 104] Connection reset by peer at 13:45:00',
    'Please check your billing settings. limit 429',
  ];
  for (const text of none) assert.deepEqual(findRateLimitHints(text, NOW, BERLIN), {}, text);
});

test('header forms: lines, Python and JSON dicts, escaped JSON, any case', () => {
  for (const text of [
    'Retry-After: 2',
    'RETRY-AFTER:2',
    "{'retry-after': '2'}",
    '{"retry-after":"2"}',
    '"{\\"retry-after\\": \\"2\\"}"',
    "{'retry-after': 2, 'x': 'y'}",
  ]) {
    assert.deepEqual(findResetHint(text, NOW), { resetAt: NOW + 2 * SEC, form: 'retry-after' }, text);
  }
  assert.deepEqual(findResetHint('Retry-After: Wed, 02 Dec 2026 13:41:00 GMT', NOW), { resetAt: NOW + MIN, form: 'retry-after' });
  assert.deepEqual(findResetHint("'retry-after-ms': '250'", NOW), { resetAt: NOW + 250, form: 'retry-after-ms' });
});

test('x-ratelimit-reset: epoch seconds, epoch ms, and a small number is seconds from now', () => {
  const at = Date.UTC(2026, 11, 2, 14, 0, 0);
  assert.deepEqual(findResetHint(`x-ratelimit-reset: ${at / 1000}`, NOW), { resetAt: at, form: 'x-ratelimit-reset' });
  assert.deepEqual(findResetHint(`X-RateLimit-Reset: ${at}`, NOW), { resetAt: at, form: 'x-ratelimit-reset' });
  assert.deepEqual(findResetHint('x-ratelimit-reset: 30', NOW), { resetAt: NOW + 30 * SEC, form: 'x-ratelimit-reset' });
  assert.deepEqual(findResetHint('RateLimit-Reset: 45', NOW), { resetAt: NOW + 45 * SEC, form: 'x-ratelimit-reset' });
});

test('findResetHint priority: each form gives way only to the ones above it', () => {
  const lines = [
    'resets at 3pm',
    'Please try again in 20s',
    '"retryDelay": "40s"',
    'x-ratelimit-reset-requests: 50s',
    'retry-after: 60',
    'retry-after-ms: 250',
    'limit reached|1796234400',
  ];
  const forms = ['retry-after-ms', 'retry-after', 'x-ratelimit-reset', 'try-again-in', 'retry-delay', 'resets-at', 'epoch'];
  const at = [NOW + 250, NOW + 60 * SEC, NOW + 50 * SEC, NOW + 20 * SEC, NOW + 40 * SEC, Date.UTC(2026, 11, 2, 14, 0), 1796234400_000];
  for (let i = 0; i < forms.length; i++) {
    const text = lines.filter((l) => !forms.slice(0, i).some((f) => formOf(l) === f)).join('\n');
    assert.deepEqual(findResetHint(text, NOW, BERLIN), { resetAt: at[i], form: forms[i] }, text);
  }
  assert.equal(findResetHint('all good, 3 items done', NOW), undefined);
});

function formOf(line: string): string {
  if (line.startsWith('retry-after-ms')) return 'retry-after-ms';
  if (line.startsWith('retry-after')) return 'retry-after';
  if (line.startsWith('x-')) return 'x-ratelimit-reset';
  if (line.includes('try again')) return 'try-again-in';
  if (line.includes('retryDelay')) return 'retry-delay';
  if (line.startsWith('resets')) return 'resets-at';
  return 'epoch';
}

test('"now": a reset before now is dropped and the next form is tried; now itself is kept', () => {
  const past = 'Retry-After: Wed, 02 Dec 2026 13:00:00 GMT\nPlease try again in 5s';
  assert.deepEqual(findResetHint(past, NOW), { resetAt: NOW + 5 * SEC, form: 'try-again-in' });
  assert.deepEqual(findResetHint('retry-after: 0', NOW), { resetAt: NOW, form: 'retry-after' });
  assert.equal(findResetHint('anthropic-ratelimit-tokens-reset: 2026-12-02T13:00:00Z', NOW), undefined);
  // The newest occurrence wins: a later response's retry-after replaces an earlier one's.
  assert.deepEqual(findResetHint('retry-after: 30\n...\nretry-after: 3', NOW), { resetAt: NOW + 3 * SEC, form: 'retry-after' });
  assert.deepEqual(findResetHint('resets Feb 19, 6am', NOW, { defaultZone: 'UTC' }), {
    resetAt: Date.UTC(2027, 1, 19, 6),
    form: 'resets-at',
  });
  assert.deepEqual(findResetHint('limit will reset at 2026-12-03T00:00Z', NOW), { resetAt: Date.UTC(2026, 11, 3), form: 'resets-at' });
});

test('bounded: only the last 64 KiB are read, pathological input returns, bad input never throws', () => {
  const early = 'HTTP/1.1 429 Too Many Requests\nretry-after: 9\n';
  assert.deepEqual(findRateLimitHints(early + 'x'.repeat(70_000), NOW), {});
  const big = 'retry-after: 1\n' + 'a'.repeat(10 * 1024 * 1024) + '\nrate_limit_exceeded';
  assert.equal(findRateLimitHints(big, NOW).signal, 'rate_limit_exceeded');
  for (const filler of [' ', 'reset ', 'exceeded a ', 'anthropic-ratelimit-a', '1', 'retry again in 1s ', '429 ', "'retry-after': '"]) {
    const text = filler.repeat(Math.ceil((70 * 1024) / filler.length));
    assert.equal(typeof findRateLimitHints(text, NOW), 'object');
  }
  assert.deepEqual(findRateLimitHints(undefined as unknown as string, NOW), {});
  assert.equal(findResetHint('retry-after: 1', Number.NaN), undefined);
});

test('a Retry-After HTTP date a second in the past (whole seconds) means retry now, not "no reset"', () => {
  const text = `HTTP/1.1 429 Too Many Requests\nRetry-After: ${new Date(NOW - 500).toUTCString()}\n`;
  const hint = findRateLimitHints(text, NOW);
  assert.equal(hint.resetAt, NOW);
  // Long past is no reset at all (a stale date is not a reason to hammer).
  assert.equal(
    findRateLimitHints(`HTTP/1.1 429 Too Many Requests\nRetry-After: ${new Date(NOW - 60_000).toUTCString()}\n`, NOW).resetAt,
    undefined,
  );
});
