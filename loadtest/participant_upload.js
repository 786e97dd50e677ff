// k6 load test: participants recording audio in the ECHO portal.
//
// Each iteration is one participant conversation:
//   1. POST {BASE_URL}/api/participant/projects/{PROJECT_ID}/conversations/initiate (JSON)
//   2. N x POST {BASE_URL}/api/participant/conversations/{id}/upload-chunk (multipart:
//      chunk=<audio/webm file>, timestamp=<ISO time>, source=PORTAL_AUDIO,
//      run_finish_hook="true" on the last chunk only), CHUNK_PAUSE seconds apart
//   3. POST {BASE_URL}/api/participant/conversations/{id}/finish (when CALL_FINISH is true)
//
// Configuration (k6 --env KEY=VALUE or environment variables):
//   BASE_URL                  API base URL, required (no default: never aim at an environment by accident)
//   PROJECT_ID                project to record into, required
//   AUDIO_FILES               comma-separated paths of WebM chunks (scripts/make_audio_fixtures), required
//   VUS                       virtual users (default 2)
//   CONVERSATIONS             conversations in total, shared by the VUs (default 3)
//   MAX_DURATION              upper bound for the whole run (default 10m)
//   CHUNKS_MIN / CHUNKS_MAX   chunks per conversation, drawn uniformly in [min, max] (default 2 / 3)
//   CHUNK_PAUSE               seconds between chunk uploads (default 1; the real recorder: ~30)
//   CALL_FINISH               "true" | "false" (default true)
//   HTTP_TIMEOUT              per-request timeout (default 60s)
//   RANDOM_SEED               seed for the chunk-count draw (optional, makes runs repeatable)
//   THRESHOLD_FAILED_RATE     abort criteria: http_req_failed rate must stay below this (default 0.01)
//   THRESHOLD_UPLOAD_P95_MS   p(95) of upload-chunk request duration must stay below this (default 5000)
//   SUMMARY_PATH              where handleSummary writes the JSON summary (optional)
//   CONVERSATION_NAME         name sent on initiate (default "k6 load test")
//
// Failing thresholds make k6 exit with code 99.

import http from 'k6/http';
import { check, randomSeed, sleep } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import exec from 'k6/execution';

function env(name, fallback) {
  const value = __ENV[name];
  return value === undefined || value === '' ? fallback : value;
}

function envInt(name, fallback, min) {
  const raw = env(name, String(fallback));
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer >= ${min}, got "${raw}"`);
  }
  return value;
}

function envNumber(name, fallback, min) {
  const raw = env(name, String(fallback));
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    throw new Error(`${name} must be a number >= ${min}, got "${raw}"`);
  }
  return value;
}

function envBool(name, fallback) {
  const raw = String(env(name, String(fallback))).toLowerCase();
  if (['true', '1', 'yes'].includes(raw)) return true;
  if (['false', '0', 'no'].includes(raw)) return false;
  throw new Error(`${name} must be true or false, got "${raw}"`);
}

function required(name) {
  const value = env(name, '');
  if (!value) {
    throw new Error(`${name} is required (pass --env ${name}=...)`);
  }
  return value;
}

const BASE_URL = required('BASE_URL').replace(/\/+$/, '');
const PROJECT_ID = required('PROJECT_ID');
const AUDIO_PATHS = required('AUDIO_FILES').split(',').map((p) => p.trim()).filter((p) => p);
const VUS = envInt('VUS', 2, 1);
const CONVERSATIONS = envInt('CONVERSATIONS', 3, 1);
const MAX_DURATION = env('MAX_DURATION', '10m');
const CHUNKS_MIN = envInt('CHUNKS_MIN', 2, 1);
const CHUNKS_MAX = envInt('CHUNKS_MAX', 3, 1);
const CHUNK_PAUSE = envNumber('CHUNK_PAUSE', 1, 0);
const CALL_FINISH = envBool('CALL_FINISH', true);
const HTTP_TIMEOUT = env('HTTP_TIMEOUT', '60s');
const FAILED_RATE = envNumber('THRESHOLD_FAILED_RATE', 0.01, 0);
const UPLOAD_P95_MS = envNumber('THRESHOLD_UPLOAD_P95_MS', 5000, 1);
const SUMMARY_PATH = env('SUMMARY_PATH', '');
const CONVERSATION_NAME = env('CONVERSATION_NAME', 'k6 load test');
const SOURCE = 'PORTAL_AUDIO';

if (CHUNKS_MAX < CHUNKS_MIN) {
  throw new Error(`CHUNKS_MAX (${CHUNKS_MAX}) must be >= CHUNKS_MIN (${CHUNKS_MIN})`);
}
if (AUDIO_PATHS.length === 0) {
  throw new Error('AUDIO_FILES lists no files');
}

// Files must be read in the init context; every VU holds them in memory (a few hundred KB).
const AUDIO = AUDIO_PATHS.map((path) => ({
  name: path.split('/').pop(),
  data: open(path, 'b'),
}));

const FAILED_THRESHOLD = `rate<${FAILED_RATE}`;
const UPLOAD_THRESHOLD = `p(95)<${UPLOAD_P95_MS}`;
const UPLOAD_METRIC = 'http_req_duration{name:upload_chunk}';
// shared-iterations never needs more VUs than iterations
const EFFECTIVE_VUS = Math.min(VUS, CONVERSATIONS);

export const options = {
  scenarios: {
    participants: {
      executor: 'shared-iterations',
      vus: EFFECTIVE_VUS,
      iterations: CONVERSATIONS,
      maxDuration: MAX_DURATION,
      gracefulStop: '30s',
    },
  },
  thresholds: {
    http_req_failed: [FAILED_THRESHOLD],
    [UPLOAD_METRIC]: [UPLOAD_THRESHOLD],
    // a 2xx initiate without a readable conversation id means the API changed shape: the run
    // would otherwise look green while uploading nothing
    initiate_without_id: ['rate==0'],
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(90)', 'p(95)', 'p(99)', 'max'],
};

const conversationsStarted = new Counter('conversations_started');
const conversationsFailed = new Counter('conversations_failed');
const initiateWithoutId = new Rate('initiate_without_id');
const conversationsFinished = new Counter('conversations_finished');
const chunksUploaded = new Counter('chunks_uploaded');
const chunksFailed = new Counter('chunks_failed');

export function setup() {
  const seed = env('RANDOM_SEED', '');
  return { seed: seed === '' ? null : Number(seed) };
}

function conversationId(res) {
  let body;
  try {
    body = res.json();
  } catch (e) {
    return null;
  }
  if (!body || typeof body !== 'object') return null;
  if (body.conversation_id) return String(body.conversation_id);
  if (body.conversation && body.conversation.id) return String(body.conversation.id);
  if (body.id) return String(body.id);
  return null;
}

function chunkCount() {
  return CHUNKS_MIN + Math.floor(Math.random() * (CHUNKS_MAX - CHUNKS_MIN + 1));
}

export default function (data) {
  if (data && data.seed !== null && exec.scenario.iterationInTest !== undefined) {
    // one deterministic stream per iteration, whichever VU runs it
    randomSeed(data.seed + exec.scenario.iterationInTest);
  }
  const jsonHeaders = { Accept: 'application/json', 'Content-Type': 'application/json' };
  const initiate = http.post(
    `${BASE_URL}/api/participant/projects/${encodeURIComponent(PROJECT_ID)}/conversations/initiate`,
    JSON.stringify({
      name: CONVERSATION_NAME,
      pin: '',
      tag_id_list: [],
      user_agent: `k6-participant-upload (vu ${exec.vu.idInTest})`,
      source: SOURCE,
    }),
    { headers: jsonHeaders, tags: { name: 'initiate' }, timeout: HTTP_TIMEOUT },
  );
  const id = conversationId(initiate);
  if (initiate.status >= 200 && initiate.status < 300) {
    initiateWithoutId.add(id === null);
  }
  const started = check(initiate, {
    'initiate: status 2xx': (r) => r.status >= 200 && r.status < 300,
    'initiate: returns a conversation id': () => id !== null,
  });
  if (!started || id === null) {
    conversationsFailed.add(1);
    return;
  }
  conversationsStarted.add(1);

  const total = chunkCount();
  const base = `${BASE_URL}/api/participant/conversations/${encodeURIComponent(id)}`;
  for (let i = 0; i < total; i++) {
    const audio = AUDIO[(exec.scenario.iterationInTest + i) % AUDIO.length];
    const last = i === total - 1;
    const res = http.post(
      `${base}/upload-chunk`,
      {
        chunk: http.file(audio.data, `chunk_${String(i).padStart(3, '0')}.webm`, 'audio/webm'),
        timestamp: new Date().toISOString(),
        source: SOURCE,
        run_finish_hook: last ? 'true' : 'false',
      },
      { headers: { Accept: 'application/json' }, tags: { name: 'upload_chunk' }, timeout: HTTP_TIMEOUT },
    );
    const ok = check(res, { 'upload-chunk: status 2xx': (r) => r.status >= 200 && r.status < 300 });
    (ok ? chunksUploaded : chunksFailed).add(1);
    if (!last && CHUNK_PAUSE > 0) {
      sleep(CHUNK_PAUSE);
    }
  }

  if (CALL_FINISH) {
    const res = http.post(`${base}/finish`, null, {
      headers: { Accept: 'application/json' },
      tags: { name: 'finish' },
      timeout: HTTP_TIMEOUT,
    });
    if (check(res, { 'finish: status 2xx': (r) => r.status >= 200 && r.status < 300 })) {
      conversationsFinished.add(1);
    }
  }
}

// ---- summary ------------------------------------------------------------------------------

function metricValues(data, name) {
  const metric = data.metrics[name];
  return metric ? metric.values : {};
}

function trend(data, name) {
  const v = metricValues(data, name);
  const pick = (key) => (v[key] === undefined ? null : Math.round(v[key] * 1000) / 1000);
  return {
    avg: pick('avg'), min: pick('min'), p50: pick('med'), p90: pick('p(90)'),
    p95: pick('p(95)'), p99: pick('p(99)'), max: pick('max'),
  };
}

function count(data, name) {
  const v = metricValues(data, name);
  return v.count === undefined ? 0 : v.count;
}

export function handleSummary(data) {
  const thresholds = [];
  for (const [metric, m] of Object.entries(data.metrics)) {
    for (const [expr, result] of Object.entries(m.thresholds || {})) {
      thresholds.push({ metric, threshold: expr, ok: result.ok });
    }
  }
  const failed = metricValues(data, 'http_req_failed');
  const checks = metricValues(data, 'checks');
  const summary = {
    target: { base_url: BASE_URL, project_id: PROJECT_ID },
    config: {
      vus: EFFECTIVE_VUS,
      conversations: CONVERSATIONS,
      max_duration: MAX_DURATION,
      chunks_min: CHUNKS_MIN,
      chunks_max: CHUNKS_MAX,
      chunk_pause_s: CHUNK_PAUSE,
      call_finish: CALL_FINISH,
      audio_files: AUDIO.map((a) => a.name),
      threshold_failed_rate: FAILED_RATE,
      threshold_upload_p95_ms: UPLOAD_P95_MS,
    },
    conversations: {
      requested: CONVERSATIONS,
      started: count(data, 'conversations_started'),
      failed_to_start: count(data, 'conversations_failed'),
      finished: count(data, 'conversations_finished'),
    },
    chunks: {
      uploaded: count(data, 'chunks_uploaded'),
      failed: count(data, 'chunks_failed'),
    },
    http: {
      requests: count(data, 'http_reqs'),
      failed: failed.passes === undefined ? 0 : failed.passes,
      failed_rate: failed.rate === undefined ? 0 : failed.rate,
    },
    checks: {
      passed: checks.passes === undefined ? 0 : checks.passes,
      failed: checks.fails === undefined ? 0 : checks.fails,
    },
    latency_ms: {
      upload_chunk: trend(data, UPLOAD_METRIC),
      all_requests: trend(data, 'http_req_duration'),
    },
    thresholds,
    thresholds_ok: thresholds.every((t) => t.ok),
    duration_s: Math.round(data.state.testRunDurationMs) / 1000,
  };
  const out = {
    stdout: `participant_upload: ${summary.conversations.started}/${CONVERSATIONS} conversations, `
      + `${summary.chunks.uploaded} chunks uploaded (${summary.chunks.failed} failed), `
      + `http_req_failed ${(summary.http.failed_rate * 100).toFixed(2)}%, `
      + `upload p95 ${summary.latency_ms.upload_chunk.p95} ms, `
      + `thresholds ${summary.thresholds_ok ? 'passed' : 'FAILED'}\n`,
  };
  if (SUMMARY_PATH) {
    out[SUMMARY_PATH] = `${JSON.stringify(summary, null, 2)}\n`;
  }
  return out;
}
