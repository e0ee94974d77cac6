/**
 * Offline validation of the deployment files: every YAML under deploy/k8s/, docker-compose.yml,
 * the nginx template and its compose rendering, the MySQL init files, the Dockerfile and the
 * Grafana dashboard (its queries name only metrics the code registers).
 *
 * Kubernetes objects are validated against the full upstream Kubernetes API schemas compiled by
 * `kubernetes-models` (4.x), plus a strict unknown-field check on top (those validators accept
 * unknown properties: every field is probed against the same schemas, so a misspelt field
 * fails); kustomization.yaml and the compose file against the vendored JSON schemas in
 * ./schemas (subsets of the Kustomize and Compose Specifications). Then everything is
 * cross-checked: selectors against pod labels, probes against declared ports, Services,
 * Ingresses, HPA and PDB against the objects they point at, env names against what the app
 * reads, and the values themselves against the app's own config validation.
 *
 * `UPDATE_RENDERED=1 npx jest test/deploy` rewrites deploy/nginx/compose.conf from the template.
 */
import Ajv, { ValidateFunction } from 'ajv';
import * as fs from 'fs';
import * as path from 'path';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { parse, parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { ConfigValidationError, ENV_DEFAULTS, loadConfig } from '../../src/infra/config/app-config';

type Obj = Record<string, any>;

const ROOT = path.resolve(__dirname, '..', '..');
const K8S_DIR = path.join(ROOT, 'deploy', 'k8s');
const SCHEMA_DIR = path.join(__dirname, 'schemas');
const read = (rel: string): string => fs.readFileSync(path.join(ROOT, rel), 'utf8');

/** The app's outside contract: the environment variables it is configured by. */
const CONTRACT_ENV = [
  'PORT',
  'GRPC_PORT',
  'APP_ROLE',
  'DB_PRIMARY_URL',
  'DB_REPLICA_URLS',
  'REDIS_URL',
  'CACHE_REDIS_URL',
  'REDIS_PREFIX',
  'SMTP_URL',
  'MAIL_FROM',
  'JWT_SECRET',
  'PAYMENT_WEBHOOK_SECRET',
  'ADMIN_EMAIL',
  'ADMIN_PASSWORD',
  'LOG_LEVEL',
  'NODE_ENV',
  'SHUTDOWN_TIMEOUT_MS',
];
/** Contract names plus the project variables the config loader reads (each has a default there). */
const KNOWN_ENV = new Set([...CONTRACT_ENV, ...Object.keys(ENV_DEFAULTS)]);
const HEALTH_PATHS = ['/health', '/health/ready'];
const MIGRATE_COMMAND = ['node', 'dist/infra/database/migrate.js'];

/** Secrets good enough for the app's validation, to prove the non-secret config is valid. */
const VALID_SECRETS = {
  JWT_SECRET: 'x'.repeat(40),
  PAYMENT_WEBHOOK_SECRET: 'y'.repeat(20),
  ADMIN_PASSWORD: 'z'.repeat(12),
};

// ---------------------------------------------------------------------------------------------
// loading
// ---------------------------------------------------------------------------------------------

function ajv(): Ajv {
  // strict: unknown keywords in the vendored schemas are errors (union types are used on purpose)
  const a = new Ajv({
    allErrors: true,
    strict: true,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
  });
  for (const f of fs.readdirSync(SCHEMA_DIR).filter((n) => n.endsWith('.json'))) {
    a.addSchema(JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, f), 'utf8')) as Obj);
  }
  return a;
}
const AJV = ajv();
const schema = (id: string): ValidateFunction => {
  const v = AJV.getSchema(id);
  if (!v) throw new Error(`no vendored schema ${id}`);
  return v;
};
const K8S_SCHEMA_BASE = 'https://schemas.nest-commerce.local/k8s/';
/** The apiVersion/kind pairs these manifests may use, each with its upstream model (kubernetes-models). */
const KIND_MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'v1/Namespace': Namespace,
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'apps/v1/Deployment': Deployment,
  'batch/v1/Job': Job,
  'networking.k8s.io/v1/Ingress': Ingress,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

interface SchemaError {
  instancePath: string;
  message?: string;
  params?: unknown;
}

/** What the upstream schema of `obj`'s kind says about it ([] when it is valid). */
function upstreamErrors(obj: Obj): SchemaError[] {
  const Model = KIND_MODELS[`${obj.apiVersion}/${obj.kind}`];
  if (!Model) return [{ instancePath: '', message: `no model for ${obj.apiVersion}/${obj.kind}` }];
  try {
    new Model(obj).validate();
    return [];
  } catch (err) {
    const errors = (err as { errors?: SchemaError[] }).errors;
    if (!errors) throw err;
    return errors;
  }
}

/** A value no Kubernetes field accepts (no field is an array of arrays). */
const PROBE = [[[]]];
const pointer = (p: string[]): string =>
  p.map((k) => `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

/**
 * Fields of `obj` the upstream schema does not know. kubernetes-models' validators accept unknown
 * properties (as the API server does, silently dropping them), so each field is probed: replaced
 * by a value no field accepts, the object must fail validation at that field — a known field (or
 * a key of a map such as labels or data) is checked there, an unknown one is not. Known fields
 * are walked into.
 */
function unknownFields(obj: Obj): string[] {
  const out: string[] = [];
  const walk = (value: unknown, at: string[]): void => {
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, [...at, String(i)]));
    if (!value || typeof value !== 'object') return;
    for (const [key, child] of Object.entries(value as Obj)) {
      // The model sets these two itself; the allowed pairs are checked on their own.
      if (!at.length && (key === 'apiVersion' || key === 'kind')) continue;
      const p = [...at, key];
      const probed = structuredClone(obj);
      let cursor: Obj = probed;
      for (const k of at) cursor = cursor[k];
      cursor[key] = PROBE;
      const ptr = pointer(p);
      const known = upstreamErrors(probed).some(
        (e) => e.instancePath === ptr || e.instancePath.startsWith(`${ptr}/`),
      );
      if (known) walk(child, p);
      else out.push(p.join('.'));
    }
  };
  walk(obj, []);
  return out;
}

function errorsOf(v: ValidateFunction): string {
  return (v.errors ?? [])
    .map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`)
    .join('\n');
}

interface K8sDoc {
  file: string;
  label: string;
  obj: Obj;
}

function yamlFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) =>
      d.isDirectory() ? yamlFiles(path.join(dir, d.name)).map((f) => path.join(d.name, f)) : [d.name],
    )
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
}

const K8S_FILES = yamlFiles(K8S_DIR);
const PARSE_ERRORS: string[] = [];
const KUSTOMIZATION_FILE = 'kustomization.yaml';
let KUSTOMIZATION: Obj = {};
const DOCS: K8sDoc[] = [];
for (const file of K8S_FILES) {
  const src = fs.readFileSync(path.join(K8S_DIR, file), 'utf8');
  const docs = parseAllDocuments(src, { merge: true, prettyErrors: true });
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    for (const e of [...doc.errors, ...doc.warnings]) PARSE_ERRORS.push(`${file}#${i}: ${e.message}`);
    const obj = doc.toJS() as Obj | null;
    if (obj === null || obj === undefined) return;
    if (file === KUSTOMIZATION_FILE) KUSTOMIZATION = obj;
    else DOCS.push({ file, obj, label: `${file}#${i} ${obj?.kind}/${obj?.metadata?.name}` });
  });
}

const ofKind = (kind: string): Obj[] => DOCS.filter((d) => d.obj.kind === kind).map((d) => d.obj);
const one = (kind: string, name: string): Obj => {
  const found = ofKind(kind).filter((o) => o.metadata?.name === name);
  if (found.length !== 1) throw new Error(`expected exactly one ${kind}/${name}, found ${found.length}`);
  return found[0];
};
const workloads = (): { kind: string; name: string; pod: Obj }[] =>
  DOCS.filter((d) => ['Deployment', 'Job'].includes(d.obj.kind)).map((d) => ({
    kind: d.obj.kind,
    name: d.obj.metadata.name,
    pod: d.obj.spec.template,
  }));
const containersOf = (pod: Obj): Obj[] => [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
const envValue = (c: Obj, name: string): string | undefined =>
  (c.env ?? []).find((e: Obj) => e.name === name)?.value;
const matches = (selector: Record<string, string>, labels: Record<string, string> = {}): boolean =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

const COMPOSE: Obj = parse(read('docker-compose.yml'), { merge: true, prettyErrors: true }) as Obj;
const SERVICES: Record<string, Obj> = COMPOSE.services ?? {};
const APP_SERVICES = ['migrate', 'api', 'worker'];
/** One-shot services (run to completion on every `up`): the secrets generator and the migration. */
const ONE_SHOTS = ['app-secrets', 'migrate'];
/** The app's secrets: never written in docker-compose.yml (given from the shell or generated). */
const APP_SECRETS = ['JWT_SECRET', 'PAYMENT_WEBHOOK_SECRET', 'ADMIN_PASSWORD'];
const WITH_SECRETS = ['sh', '/opt/nest-commerce/with-secrets.sh'];
const INFRA_SERVICES = ['mysql-primary', 'mysql-replica', 'redis', 'mailcatcher'];

/** Compose's own interpolation of `${VAR}`, `${VAR:-default}`, `${VAR-default}` and `$$`. */
function interpolate(value: string, env: Record<string, string | undefined> = {}): string {
  return value.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (m, name, op, def, bare) => {
      if (m === '$$') return '$';
      if (bare) return env[bare] ?? '';
      const v = env[name];
      if (op === ':-') return v ? v : def;
      if (op === '-') return v === undefined ? def : v;
      return v ?? '';
    },
  );
}
const composeEnv = (svc: Obj): Record<string, string> =>
  Object.fromEntries(
    Object.entries((svc.environment ?? {}) as Obj).map(([k, v]) => [
      k,
      interpolate(v === null ? '' : String(v)),
    ]),
  );

/** Host port of each published mapping ("3307:3306", "${VAR:-3307}:3306", "127.0.0.1:8080:8080", {published}), with compose's defaults. */
function hostPorts(svc: Obj, env: Record<string, string | undefined> = {}): number[] {
  return (svc.ports ?? []).map((p: string | number | Obj) => {
    if (typeof p === 'object') return Number(interpolate(String(p.published), env));
    const parts = interpolate(String(p), env)
      .replace(/\/(tcp|udp)$/, '')
      .split(':');
    return Number(parts.length >= 2 ? parts[parts.length - 2] : parts[0]);
  });
}
const containerPorts = (svc: Obj): number[] =>
  (svc.ports ?? []).map((p: string | number | Obj) =>
    typeof p === 'object'
      ? Number(p.target)
      : Number(
          String(p)
            .replace(/\/(tcp|udp)$/, '')
            .split(':')
            .pop(),
        ),
  );

/** `key = value` pairs of a my.cnf [mysqld] section (dashes and underscores are the same). */
function mycnf(rel: string): Record<string, string> {
  const out: Record<string, string> = {};
  let section = '';
  for (const raw of read(rel).split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1];
      continue;
    }
    if (section !== 'mysqld') continue;
    const [k, ...rest] = line.split('=');
    out[k.trim().replace(/-/g, '_')] = rest
      .join('=')
      .trim()
      .replace(/^'(.*)'$/, '$1');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// nginx template rendering (shared with compose.conf; the local cluster script renders the same)
// ---------------------------------------------------------------------------------------------

const NGINX_TEMPLATE = 'deploy/nginx/nginx.conf.template';
const NGINX_COMPOSE = 'deploy/nginx/compose.conf';
const NGINX_PLACEHOLDERS = [
  'HTTP_LISTEN',
  'GRPC_LISTEN',
  'HTTP_UPSTREAMS',
  'GRPC_UPSTREAMS',
  'PID_FILE',
  'LOG_DIR',
  'TEMP_DIR',
];
const COMPOSE_NGINX_VALUES: Record<string, string> = {
  HTTP_LISTEN: '8080',
  GRPC_LISTEN: '50051',
  HTTP_UPSTREAMS: '    server api:3000 max_fails=1 fail_timeout=5s;',
  GRPC_UPSTREAMS: '    server api:50051 max_fails=1 fail_timeout=5s;',
  PID_FILE: '/var/run/nginx.pid',
  LOG_DIR: '/var/log/nginx',
  TEMP_DIR: '/var/cache/nginx',
};
const COMPOSE_CONF_HEADER = [
  '# GENERATED from deploy/nginx/nginx.conf.template for docker-compose.yml: do not edit by hand.',
  '# Regenerate: UPDATE_RENDERED=1 npx jest test/deploy (the spec fails while this file differs',
  '# from the template rendered with the compose values it lists). The upstream host `api` is',
  "# resolved by Docker's DNS once, when nginx starts, to every replica of the `api` service: after",
  '# `docker compose up --scale api=N` or a re-created api container, `docker compose restart nginx`.',
  '#',
  '',
].join('\n');

function renderNginx(template: string, values: Record<string, string>): string {
  let out = template;
  for (const [k, v] of Object.entries(values)) out = out.split(`{{${k}}}`).join(v);
  const left = /\{\{[A-Z_]+\}\}/.exec(out);
  if (left) throw new Error(`placeholder ${left[0]} has no value`);
  return out;
}
/** nginx directives without comments, one per statement, whitespace collapsed; a placeholder reads <NAME>. */
const directives = (conf: string): string[] =>
  conf
    .split('\n')
    .map((l) => l.replace(/#.*$/, ''))
    .join('\n')
    .replace(/\{\{([A-Z_]+)\}\}/g, '<$1>')
    .replace(/"[^"\n]*"/g, (q) => q.replace(/[{}]/g, '_'))
    .split(/[;{}]/)
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter(Boolean);

// =============================================================================================
// Kubernetes
// =============================================================================================

describe('deploy/k8s manifests', () => {
  it('every file parses as YAML without errors or duplicate keys', () => {
    expect(K8S_FILES.length).toBeGreaterThan(0);
    expect(PARSE_ERRORS).toEqual([]);
  });

  it('kustomization.yaml validates, sets namespace nest-commerce and lists exactly the manifest files', () => {
    const v = schema(`${K8S_SCHEMA_BASE}kustomization.json`);
    expect(v(KUSTOMIZATION) ? '' : errorsOf(v)).toBe('');
    expect(KUSTOMIZATION.namespace).toBe('nest-commerce');
    const manifests = K8S_FILES.filter((f) => f !== KUSTOMIZATION_FILE);
    expect([...KUSTOMIZATION.resources].sort()).toEqual(manifests);
  });

  it('the kustomize image rewrite names the image every workload uses', () => {
    const images = new Set(
      workloads().flatMap((w) => containersOf(w.pod).map((c) => String(c.image).split(':')[0])),
    );
    expect([...images]).toEqual(['nest-commerce']);
    expect(KUSTOMIZATION.images.map((i: Obj) => i.name)).toEqual(['nest-commerce']);
  });

  it('every document uses an allowed apiVersion/kind pair', () => {
    const pairs = DOCS.map((d) => `${d.obj.apiVersion}/${d.obj.kind}`);
    expect(pairs.filter((p) => !KIND_MODELS[p])).toEqual([]);
    // the kinds this deployment is made of, each present
    expect(new Set(pairs)).toEqual(new Set(Object.keys(KIND_MODELS)));
  });

  it.each(DOCS.map((d) => [d.label, d] as const))(
    '%s validates against the upstream Kubernetes schema of its kind, with no field it does not know',
    (_label, d) => {
      const errors = upstreamErrors(d.obj).map(
        (e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`,
      );
      expect(errors).toEqual([]);
      expect(unknownFields(d.obj)).toEqual([]);
    },
  );

  it('the strict check catches a misspelt field, a field at the wrong level and a wrong type', () => {
    const api = DOCS.find((d) => d.obj.kind === 'Deployment')!.obj;
    const broken = structuredClone(api);
    broken.spec.replica = 2; // misspelt
    broken.spec.template.spec.containers[0].readinesProbe = {}; // misspelt
    broken.metadata.selector = {}; // wrong level
    broken.spec.template.metadata.labels.extra = 'ok'; // a map key: allowed
    expect(unknownFields(broken).sort()).toEqual(
      ['metadata.selector', 'spec.replica', 'spec.template.spec.containers.0.readinesProbe'].sort(),
    );
    const wrongType = structuredClone(api);
    wrongType.spec.replicas = 'two';
    expect(upstreamErrors(wrongType).map((e) => e.instancePath)).toContain('/spec/replicas');
  });

  it('object names are unique per kind and namespaced objects name no namespace but nest-commerce', () => {
    const keys = DOCS.map((d) => `${d.obj.kind}/${d.obj.metadata.name}`);
    expect(keys.length).toBe(new Set(keys).size);
    const foreign = DOCS.filter(
      (d) =>
        d.obj.kind !== 'Namespace' &&
        d.obj.metadata.namespace &&
        d.obj.metadata.namespace !== 'nest-commerce',
    );
    expect(foreign.map((d) => d.label)).toEqual([]);
    expect(one('Namespace', 'nest-commerce').metadata.name).toBe('nest-commerce');
  });

  it('every Deployment selector matches its own pod template labels', () => {
    const deployments = ofKind('Deployment');
    expect(deployments.length).toBeGreaterThan(0);
    for (const d of deployments) {
      const sel = d.spec.selector.matchLabels ?? {};
      expect(Object.keys(sel).length).toBeGreaterThan(0);
      expect({ name: d.metadata.name, matches: matches(sel, d.spec.template.metadata.labels) }).toEqual({
        name: d.metadata.name,
        matches: true,
      });
    }
  });

  it('Deployment selectors do not overlap: no pod is claimed by two Deployments', () => {
    const ds = ofKind('Deployment');
    for (const a of ds) {
      for (const b of ds) {
        if (a === b) continue;
        expect({
          a: a.metadata.name,
          b: b.metadata.name,
          overlap: matches(a.spec.selector.matchLabels, b.spec.template.metadata.labels),
        }).toEqual({
          a: a.metadata.name,
          b: b.metadata.name,
          overlap: false,
        });
      }
    }
  });

  it('every container names a non-empty image', () => {
    const all = workloads().flatMap((w) =>
      containersOf(w.pod).map((c) => ({ where: `${w.kind}/${w.name}/${c.name}`, image: c.image })),
    );
    expect(all.length).toBeGreaterThan(0);
    expect(all.filter((c) => typeof c.image !== 'string' || !c.image.trim())).toEqual([]);
  });

  it('every probe targets a port its container declares and a health path of the contract', () => {
    let probes = 0;
    for (const w of workloads()) {
      for (const c of containersOf(w.pod)) {
        const declared = new Set<string | number>(
          (c.ports ?? []).flatMap((p: Obj) => [p.containerPort, p.name].filter((x) => x !== undefined)),
        );
        for (const kind of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
          const p = c[kind];
          if (!p) continue;
          probes++;
          const where = `${w.kind}/${w.name}/${c.name}.${kind}`;
          const action = p.httpGet ?? p.tcpSocket ?? p.grpc;
          expect({ where, portDeclared: declared.has(action.port) }).toEqual({ where, portDeclared: true });
          if (p.httpGet)
            expect({ where, path: HEALTH_PATHS.includes(p.httpGet.path) }).toEqual({ where, path: true });
        }
      }
    }
    expect(probes).toBeGreaterThanOrEqual(6);
  });

  it('readiness probes use /health/ready and liveness/startup probes use /health on every long-running container', () => {
    for (const d of ofKind('Deployment')) {
      for (const c of d.spec.template.spec.containers) {
        const where = `${d.metadata.name}/${c.name}`;
        expect({ where, ready: c.readinessProbe?.httpGet?.path }).toEqual({ where, ready: '/health/ready' });
        expect({ where, live: c.livenessProbe?.httpGet?.path }).toEqual({ where, live: '/health' });
        expect({ where, startup: c.startupProbe?.httpGet?.path }).toEqual({ where, startup: '/health' });
      }
    }
  });

  it('every Service selects the pods of exactly one Deployment and targets ports those pods declare', () => {
    const services = ofKind('Service');
    expect(services.map((s) => s.metadata.name).sort()).toEqual(['api', 'worker']);
    for (const s of services) {
      const selected = ofKind('Deployment').filter((d) =>
        matches(s.spec.selector, d.spec.template.metadata.labels),
      );
      expect({ service: s.metadata.name, deployments: selected.length }).toEqual({
        service: s.metadata.name,
        deployments: 1,
      });
      const ports = selected[0].spec.template.spec.containers.flatMap((c: Obj) =>
        (c.ports ?? []).flatMap((p: Obj) => [p.name, p.containerPort]),
      );
      for (const sp of s.spec.ports) {
        const target = sp.targetPort ?? sp.port;
        expect({ service: s.metadata.name, port: sp.name, targetDeclared: ports.includes(target) }).toEqual({
          service: s.metadata.name,
          port: sp.name,
          targetDeclared: true,
        });
      }
    }
  });

  it('the api Service exposes http 3000 and grpc 50051; the worker Service only its metrics port', () => {
    const api = one('Service', 'api');
    expect(api.spec.ports.map((p: Obj) => [p.name, p.port, p.targetPort])).toEqual([
      ['http', 3000, 'http'],
      ['grpc', 50051, 'grpc'],
    ]);
    const worker = one('Service', 'worker');
    expect(worker.spec.ports.map((p: Obj) => [p.name, p.port, p.targetPort])).toEqual([
      ['metrics', 3000, 'http'],
    ]);
  });

  it('every Ingress backend is an existing Service port, class nginx', () => {
    const ingresses = ofKind('Ingress');
    expect(ingresses.length).toBe(2);
    for (const ing of ingresses) {
      expect(ing.spec.ingressClassName).toBe('nginx');
      for (const rule of ing.spec.rules) {
        for (const p of rule.http.paths) {
          const b = p.backend.service;
          const svc = one('Service', b.name);
          const exists = svc.spec.ports.some((sp: Obj) =>
            b.port.name !== undefined ? sp.name === b.port.name : sp.port === b.port.number,
          );
          expect({
            ingress: ing.metadata.name,
            path: p.path,
            backend: `${b.name}:${b.port.name ?? b.port.number}`,
            exists,
          }).toEqual({
            ingress: ing.metadata.name,
            path: p.path,
            backend: `${b.name}:${b.port.name ?? b.port.number}`,
            exists: true,
          });
        }
      }
    }
  });

  it('the gRPC Ingress declares backend-protocol GRPC and routes only to the grpc port; the HTTP one only to http', () => {
    const ingresses = ofKind('Ingress');
    const backendsOf = (i: Obj): string[] =>
      i.spec.rules.flatMap((r: Obj) => r.http.paths.map((p: Obj) => p.backend.service.port.name));
    const grpc = ingresses.filter(
      (i) => i.metadata.annotations?.['nginx.ingress.kubernetes.io/backend-protocol'] === 'GRPC',
    );
    expect(grpc.length).toBe(1);
    expect(new Set(backendsOf(grpc[0]))).toEqual(new Set(['grpc']));
    expect(grpc[0].spec.tls?.length).toBeGreaterThan(0);
    const http = ingresses.filter((i) => i !== grpc[0]);
    expect(new Set(backendsOf(http[0]))).toEqual(new Set(['http']));
    expect(http[0].metadata.annotations['nginx.ingress.kubernetes.io/proxy-body-size']).toBe('1m');
    // retries never include non_idempotent (a POST that reached a pod is not re-sent)
    expect(http[0].metadata.annotations['nginx.ingress.kubernetes.io/proxy-next-upstream']).toBe(
      'error timeout http_502 http_503',
    );
  });

  it('the HTTP Ingress does not expose /metrics', () => {
    const http = ofKind('Ingress').find(
      (i) => !i.metadata.annotations?.['nginx.ingress.kubernetes.io/backend-protocol'],
    )!;
    const paths: Obj[] = http.spec.rules.flatMap((r: Obj) => r.http.paths);
    const routes = (p: string): boolean =>
      paths.some((x) =>
        x.pathType === 'Exact'
          ? x.path === p
          : p === x.path || p.startsWith(x.path.replace(/\/$/, '') + '/') || x.path === '/',
      );
    expect(routes('/metrics')).toBe(false);
    expect(routes('/api/v1/products')).toBe(true);
    expect(routes('/health/ready')).toBe(true);
  });

  it('the HPA scales the existing api Deployment 2..10 on 70 % CPU, and the api containers request CPU', () => {
    const hpa = one('HorizontalPodAutoscaler', 'api');
    const ref = hpa.spec.scaleTargetRef;
    expect(ref).toMatchObject({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' });
    const target = one(ref.kind, ref.name);
    expect(target.apiVersion).toBe(ref.apiVersion);
    expect([hpa.spec.minReplicas, hpa.spec.maxReplicas]).toEqual([2, 10]);
    expect(hpa.spec.metrics).toEqual([
      {
        type: 'Resource',
        resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } },
      },
    ]);
    // Utilization is relative to requests: without a CPU request the HPA cannot compute it.
    for (const c of target.spec.template.spec.containers) expect(c.resources?.requests?.cpu).toBeDefined();
    expect(hpa.spec.minReplicas).toBeLessThanOrEqual(target.spec.replicas);
  });

  it('the PDB selects exactly the api pods and keeps at least one available', () => {
    const pdb = one('PodDisruptionBudget', 'api');
    expect(pdb.spec.minAvailable).toBe(1);
    const selected = ofKind('Deployment').filter((d) =>
      matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels),
    );
    expect(selected.map((d) => d.metadata.name)).toEqual(['api']);
    // a PDB that allows no disruption at all would block node drains
    expect(pdb.spec.minAvailable).toBeLessThan(one('HorizontalPodAutoscaler', 'api').spec.minReplicas);
  });

  it('env var names set anywhere (container env, ConfigMap keys, Secret keys) are names the app reads', () => {
    const names = [
      ...workloads().flatMap((w) =>
        containersOf(w.pod).flatMap((c) => (c.env ?? []).map((e: Obj) => e.name as string)),
      ),
      ...ofKind('ConfigMap').flatMap((c) => Object.keys(c.data ?? {})),
      ...ofKind('Secret').flatMap((s) => [...Object.keys(s.stringData ?? {}), ...Object.keys(s.data ?? {})]),
    ];
    expect(names.length).toBeGreaterThan(10);
    expect(names.filter((n) => !KNOWN_ENV.has(n))).toEqual([]);
  });

  it('secrets are in the Secret, not the ConfigMap; APP_ROLE is per workload, not shared', () => {
    const cm = one('ConfigMap', 'nest-commerce-config');
    const secret = one('Secret', 'nest-commerce-secrets');
    for (const k of [
      'JWT_SECRET',
      'PAYMENT_WEBHOOK_SECRET',
      'ADMIN_PASSWORD',
      'DB_PRIMARY_URL',
      'DB_REPLICA_URLS',
      'REDIS_URL',
    ]) {
      expect({ k, inSecret: k in secret.stringData, inConfigMap: k in cm.data }).toEqual({
        k,
        inSecret: true,
        inConfigMap: false,
      });
    }
    expect('APP_ROLE' in cm.data).toBe(false);
  });

  it('every envFrom names an existing ConfigMap or Secret', () => {
    let refs = 0;
    for (const w of workloads()) {
      for (const c of containersOf(w.pod)) {
        for (const src of c.envFrom ?? []) {
          refs++;
          if (src.configMapRef) expect(() => one('ConfigMap', src.configMapRef.name)).not.toThrow();
          if (src.secretRef) expect(() => one('Secret', src.secretRef.name)).not.toThrow();
        }
      }
    }
    expect(refs).toBe(workloads().length * 2);
  });

  it('the ConfigMap with real secrets passes the app config validation for each role; the placeholder secrets are refused', () => {
    const cm = one('ConfigMap', 'nest-commerce-config').data as Record<string, string>;
    const secret = one('Secret', 'nest-commerce-secrets').stringData as Record<string, string>;
    // What the secret store holds instead: real secrets, and real passwords in the server URLs.
    const real = Object.fromEntries(
      Object.entries(secret).map(([k, v]) => [k, v.replace(/CHANGE-ME/g, 'a-real-s3cret')]),
    );
    for (const role of ['api', 'worker']) {
      const cfg = loadConfig({ ...cm, ...real, ...VALID_SECRETS, APP_ROLE: role });
      expect([cfg.role, cfg.env, cfg.port, cfg.grpcPort, cfg.shutdownTimeoutMs]).toEqual([
        role,
        'production',
        3000,
        50051,
        15000,
      ]);
    }
    let error: unknown;
    try {
      loadConfig({ ...cm, ...secret, APP_ROLE: 'api' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const problems = (error as ConfigValidationError).problems;
    expect(problems.join('\n')).toMatch(/JWT_SECRET[\s\S]*PAYMENT_WEBHOOK_SECRET/);
    // CHANGE-ME passes the length check of ADMIN_PASSWORD (8): refused as a placeholder, as are
    // the placeholder passwords of the server URLs.
    for (const name of [
      'ADMIN_PASSWORD',
      'DB_PRIMARY_URL password',
      'DB_REPLICA_URLS[0] password',
      'REDIS_URL password',
    ])
      expect(problems).toContainEqual(
        expect.stringMatching(new RegExp(`^${name.replace(/[[\]]/g, '\\$&')}: is a placeholder`)),
      );
  });

  it('api: 2 replicas, APP_ROLE=api, ports http 3000 + grpc 50051, resources, prometheus annotations on the http port', () => {
    const api = one('Deployment', 'api');
    expect(api.spec.replicas).toBe(2);
    const [c] = api.spec.template.spec.containers;
    expect(api.spec.template.spec.containers).toHaveLength(1);
    expect(envValue(c, 'APP_ROLE')).toBe('api');
    expect(c.ports.map((p: Obj) => [p.name, p.containerPort])).toEqual([
      ['http', 3000],
      ['grpc', 50051],
    ]);
    expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(c.resources.limits.memory).toBeDefined();
    const ann = api.spec.template.metadata.annotations;
    expect(ann).toMatchObject({
      'prometheus.io/scrape': 'true',
      'prometheus.io/path': '/metrics',
      'prometheus.io/port': '3000',
    });
    expect(api.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('api shutdown fits the grace period: preStop sleep 5 + SHUTDOWN_TIMEOUT_MS < terminationGracePeriodSeconds (30)', () => {
    const api = one('Deployment', 'api');
    const spec = api.spec.template.spec;
    expect(spec.terminationGracePeriodSeconds).toBe(30);
    const preStop = spec.containers[0].lifecycle.preStop.exec.command;
    expect(preStop).toEqual(['sleep', '5']);
    const shutdownMs = Number(one('ConfigMap', 'nest-commerce-config').data.SHUTDOWN_TIMEOUT_MS);
    expect(5 + shutdownMs / 1000).toBeLessThan(spec.terminationGracePeriodSeconds);
  });

  it('worker: APP_ROLE=worker, only the http port 3000 (probes and metrics), no gRPC', () => {
    const worker = one('Deployment', 'worker');
    const [c] = worker.spec.template.spec.containers;
    expect(envValue(c, 'APP_ROLE')).toBe('worker');
    expect(c.ports.map((p: Obj) => [p.name, p.containerPort])).toEqual([['http', 3000]]);
    const shutdownMs = Number(one('ConfigMap', 'nest-commerce-config').data.SHUTDOWN_TIMEOUT_MS);
    expect(shutdownMs / 1000).toBeLessThan(worker.spec.template.spec.terminationGracePeriodSeconds);
  });

  it('every pod meets the restricted Pod Security profile (non-root numeric uid, read-only root, no escalation, no capabilities, RuntimeDefault seccomp)', () => {
    for (const w of workloads()) {
      const pod = w.pod.spec;
      const where = `${w.kind}/${w.name}`;
      expect({ where, pod: pod.securityContext }).toMatchObject({
        where,
        pod: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
      });
      for (const c of containersOf(w.pod)) {
        expect({ where, c: c.name, sc: c.securityContext }).toMatchObject({
          where,
          c: c.name,
          sc: {
            runAsNonRoot: true,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ['ALL'] },
          },
        });
        // read-only root: /tmp must be a volume
        const tmp = (c.volumeMounts ?? []).find((m: Obj) => m.mountPath === '/tmp');
        expect({
          where,
          tmpMounted: !!tmp && pod.volumes.some((v: Obj) => v.name === tmp.name && v.emptyDir),
        }).toEqual({ where, tmpMounted: true });
      }
    }
    expect(one('Namespace', 'nest-commerce').metadata.labels['pod-security.kubernetes.io/enforce']).toBe(
      'restricted',
    );
  });

  it('the migration Job runs node dist/infra/database/migrate.js, backoffLimit 2, never restarted in place', () => {
    const job = one('Job', 'migrate');
    expect(job.spec.backoffLimit).toBe(2);
    expect(job.spec.template.spec.restartPolicy).toBe('Never');
    const [c] = job.spec.template.spec.containers;
    expect([...(c.command ?? []), ...(c.args ?? [])]).toEqual(MIGRATE_COMMAND);
    expect(fs.existsSync(path.join(ROOT, 'src/infra/database/migrate.ts'))).toBe(true);
  });
});

// =============================================================================================
// docker compose
// =============================================================================================

describe('docker-compose.yml', () => {
  it('parses and validates against the vendored compose schema', () => {
    const v = schema('https://schemas.nest-commerce.local/compose/compose.json');
    // compose validates the interpolated file (`${INFRA_REDIS_PORT:-6380}` is a port once read)
    const interpolated = (x: unknown): unknown =>
      typeof x === 'string'
        ? interpolate(x)
        : Array.isArray(x)
          ? x.map(interpolated)
          : x && typeof x === 'object'
            ? Object.fromEntries(Object.entries(x).map(([k, y]) => [k, interpolated(y)]))
            : x;
    expect(v(interpolated(COMPOSE)) ? '' : errorsOf(v)).toBe('');
  });

  it('defines the services of the topology with their images', () => {
    expect(Object.keys(SERVICES).sort()).toEqual(
      [...INFRA_SERVICES, ...APP_SERVICES, 'app-secrets', 'nginx'].sort(),
    );
    expect(SERVICES['mysql-primary'].image).toBe('mysql:8.4');
    expect(SERVICES['mysql-replica'].image).toBe('mysql:8.4');
    expect(SERVICES.redis.image).toMatch(/^redis:7(\.|$)/);
    expect(SERVICES.mailcatcher.image).toMatch(/^axllent\/mailpit(:|$)/);
    expect(SERVICES.nginx.image).toMatch(/^nginx:1\.27(\.|$)/);
    for (const s of [...APP_SERVICES, 'app-secrets']) {
      expect({ s, image: SERVICES[s].image, build: SERVICES[s].build }).toEqual({
        s,
        image: 'nest-commerce:local',
        build: { context: '.', dockerfile: 'Dockerfile' },
      });
    }
  });

  it('every depends_on target exists; service_healthy targets have a healthcheck; service_completed_successfully only on the one-shots', () => {
    let edges = 0;
    for (const [name, svc] of Object.entries(SERVICES)) {
      const deps: Obj = Array.isArray(svc.depends_on)
        ? Object.fromEntries(svc.depends_on.map((d: string) => [d, { condition: 'service_started' }]))
        : (svc.depends_on ?? {});
      for (const [dep, spec] of Object.entries(deps)) {
        edges++;
        expect({ name, dep, exists: dep in SERVICES }).toEqual({ name, dep, exists: true });
        if (spec.condition === 'service_healthy')
          expect({ dep, healthcheck: !!SERVICES[dep].healthcheck?.test }).toEqual({ dep, healthcheck: true });
        if (spec.condition === 'service_completed_successfully') expect(ONE_SHOTS).toContain(dep);
      }
    }
    expect(edges).toBeGreaterThanOrEqual(12);
  });

  it('depends_on has no cycles', () => {
    const state: Record<string, 'visiting' | 'done'> = {};
    const visit = (n: string, trail: string[]): void => {
      if (state[n] === 'done') return;
      if (state[n] === 'visiting') throw new Error(`cycle: ${[...trail, n].join(' -> ')}`);
      state[n] = 'visiting';
      const deps = SERVICES[n].depends_on ?? {};
      for (const d of Array.isArray(deps) ? deps : Object.keys(deps)) visit(d, [...trail, n]);
      state[n] = 'done';
    };
    expect(() => Object.keys(SERVICES).forEach((n) => visit(n, []))).not.toThrow();
  });

  it('every long-running service has a healthcheck (app-secrets and migrate are one-shots)', () => {
    const missing = Object.entries(SERVICES)
      .filter(([n, s]) => !ONE_SHOTS.includes(n) && !s.healthcheck?.test)
      .map(([n]) => n);
    expect(missing).toEqual([]);
    for (const n of ONE_SHOTS) expect({ n, restart: SERVICES[n].restart }).toEqual({ n, restart: 'no' });
  });

  it('host ports do not collide and are exactly 3307, 3308, 6380, 1025, 1080, 8080, 50051', () => {
    const all = Object.values(SERVICES).flatMap((s) => hostPorts(s));
    expect(all.length).toBe(new Set(all).size);
    expect([...all].sort((a, b) => a - b)).toEqual([1025, 1080, 3307, 3308, 6380, 8080, 50051]);
    expect(hostPorts(SERVICES['mysql-primary'])).toEqual([3307]);
    expect(hostPorts(SERVICES['mysql-replica'])).toEqual([3308]);
    expect(hostPorts(SERVICES.redis)).toEqual([6380]);
    expect(hostPorts(SERVICES.mailcatcher).sort()).toEqual([1025, 1080]);
    expect(hostPorts(SERVICES.nginx).sort()).toEqual([50051, 8080].sort());
  });

  it('MySQL, Redis and the mail catcher publish their ports on 127.0.0.1 only (never on all interfaces)', () => {
    for (const n of INFRA_SERVICES) {
      const ports = (SERVICES[n].ports ?? []) as (string | Obj)[];
      expect(ports.length).toBeGreaterThan(0);
      for (const p of ports) {
        // "host_ip:host:container" (short syntax) or {host_ip, published, target} (long syntax);
        // "3307:3306" or a bare port publishes on 0.0.0.0 and every IPv6 address.
        const short = typeof p === 'object' ? '' : interpolate(String(p)).split(':');
        const hostIp = typeof p === 'object' ? p.host_ip : short.length === 3 ? short[0] : '';
        expect({ n, p, hostIp }).toEqual({ n, p, hostIp: '127.0.0.1' });
      }
    }
    // Only nginx faces the network.
    const published = Object.entries(SERVICES)
      .filter(([, s]) => s.ports?.length)
      .map(([n]) => n);
    expect(published.sort()).toEqual([...INFRA_SERVICES, 'nginx'].sort());
  });

  it('no production secret is written in the file: the app secrets come from the shell or app-secrets, with no default', () => {
    const raw = read('docker-compose.yml');
    for (const name of APP_SECRETS) {
      // The only mention as a value: `${NAME:-}` (empty unless the shell gives it).
      const values = [...raw.matchAll(new RegExp(`^\\s*${name}:\\s*(.*)$`, 'gm'))].map((m) => m[1].trim());
      expect({ name, values }).toEqual({ name, values: [`\${${name}:-}`] });
    }
    for (const n of APP_SERVICES) {
      const env = composeEnv(SERVICES[n]);
      for (const name of APP_SECRETS) expect({ n, name, value: env[name] }).toEqual({ n, name, value: '' });
      expect(env.NODE_ENV).toBe('production');
      // Started through the script that adds the generated secrets, with the generated volume.
      expect(SERVICES[n].command.slice(0, 2)).toEqual(WITH_SECRETS);
      expect(SERVICES[n].volumes).toContain('app-secrets:/run/nest-commerce:ro');
      expect(SERVICES[n].depends_on['app-secrets']).toEqual({ condition: 'service_completed_successfully' });
    }
    // Without them the app refuses to start, naming each (as when neither shell nor file gives them).
    let error: unknown;
    try {
      loadConfig(composeEnv(SERVICES.api));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    for (const name of APP_SECRETS)
      expect((error as ConfigValidationError).problems).toContain(
        `${name}: is required when NODE_ENV=production`,
      );
    // The generator draws them from /dev/urandom into the volume, for the app's uid only.
    const gen = read('deploy/compose/app-secrets.sh');
    expect(SERVICES['app-secrets'].command).toEqual(['sh', '/opt/nest-commerce/app-secrets.sh']);
    expect(SERVICES['app-secrets'].volumes).toContain('app-secrets:/run/nest-commerce');
    expect(gen).toContain('/dev/urandom');
    for (const name of APP_SECRETS) expect(gen).toMatch(new RegExp(`echo "${name}=\\$\\(hex \\d+\\)"`));
    expect(gen).toMatch(/chmod 0400/);
    // with-secrets.sh reads only those three names from the file, and only when not given.
    const withSecrets = read('deploy/compose/with-secrets.sh');
    expect(withSecrets).toContain('JWT_SECRET | PAYMENT_WEBHOOK_SECRET | ADMIN_PASSWORD) ;;');
    expect(withSecrets).toMatch(/exec "\$@"/);
  });

  it('the infrastructure publishes on the INFRA_* ports when they are set (npm run infra:up with the Docker engine)', () => {
    const env = {
      INFRA_MYSQL_PRIMARY_PORT: '13307',
      INFRA_MYSQL_REPLICA_PORT: '13308',
      INFRA_REDIS_PORT: '16380',
      INFRA_SMTP_PORT: '11025',
      INFRA_MAIL_WEB_PORT: '11080',
    };
    expect(hostPorts(SERVICES['mysql-primary'], env)).toEqual([13307]);
    expect(hostPorts(SERVICES['mysql-replica'], env)).toEqual([13308]);
    expect(hostPorts(SERVICES.redis, env)).toEqual([16380]);
    expect(hostPorts(SERVICES.mailcatcher, env).sort()).toEqual([11025, 11080]);
  });

  it('the four infrastructure services run on their own: they depend only on each other', () => {
    for (const n of INFRA_SERVICES) {
      const deps = Object.keys(SERVICES[n].depends_on ?? {});
      expect({ n, outside: deps.filter((d) => !INFRA_SERVICES.includes(d)) }).toEqual({ n, outside: [] });
    }
    expect(SERVICES['mysql-replica'].depends_on['mysql-primary'].condition).toBe('service_healthy');
  });

  it('api runs 2 replicas with no host ports, worker 1; each app service sets its APP_ROLE', () => {
    expect(SERVICES.api.deploy.replicas).toBe(2);
    expect(SERVICES.api.ports).toBeUndefined();
    expect(SERVICES.api.container_name).toBeUndefined();
    expect(SERVICES.worker.deploy.replicas).toBe(1);
    expect(SERVICES.worker.ports).toBeUndefined();
    expect(composeEnv(SERVICES.api).APP_ROLE).toBe('api');
    expect(composeEnv(SERVICES.worker).APP_ROLE).toBe('worker');
  });

  it('app services use only env names the app reads, and their environment passes the app config validation', () => {
    for (const n of APP_SERVICES) {
      const env = composeEnv(SERVICES[n]);
      expect({ n, unknown: Object.keys(env).filter((k) => !KNOWN_ENV.has(k)) }).toEqual({ n, unknown: [] });
      // with the secrets app-secrets generates (or the shell gives)
      const cfg = loadConfig({ ...env, ...VALID_SECRETS });
      expect(cfg.env).toBe('production');
      expect(cfg.db.primary.host).toBe('mysql-primary');
      expect(cfg.db.replicas.map((r) => r.host)).toEqual(['mysql-replica']);
      expect(new URL(cfg.redis.url).hostname).toBe('redis');
      expect(new URL(cfg.mail.smtpUrl).host).toBe('mailcatcher:1025');
    }
  });

  it('app services wait for migrate to complete and for healthy infrastructure; migrate waits for the primary', () => {
    expect(SERVICES.migrate.command).toEqual([...WITH_SECRETS, ...MIGRATE_COMMAND]);
    expect(SERVICES.migrate.depends_on).toEqual({
      'app-secrets': { condition: 'service_completed_successfully' },
      'mysql-primary': { condition: 'service_healthy' },
    });
    for (const n of ['api', 'worker']) {
      expect(SERVICES[n].depends_on.migrate.condition).toBe('service_completed_successfully');
      for (const infra of INFRA_SERVICES)
        expect({ n, infra, c: SERVICES[n].depends_on[infra]?.condition }).toEqual({
          n,
          infra,
          c: 'service_healthy',
        });
      // longer than the app's own drain bound
      const graceSeconds = Number(String(SERVICES[n].stop_grace_period).replace(/s$/, ''));
      expect(graceSeconds * 1000).toBeGreaterThan(Number(composeEnv(SERVICES[n]).SHUTDOWN_TIMEOUT_MS));
    }
    expect(SERVICES.nginx.depends_on.api.condition).toBe('service_healthy');
  });

  it('app healthchecks probe /health/ready on the container port', () => {
    for (const n of ['api', 'worker']) {
      expect(SERVICES[n].healthcheck.test.join(' ')).toContain('http://127.0.0.1:3000/health/ready');
    }
  });

  it('bind-mounted files exist in the repository', () => {
    const binds = Object.values(SERVICES).flatMap((s) =>
      (s.volumes ?? []).filter((v: unknown) => typeof v === 'string' && v.startsWith('./')),
    );
    expect(binds.length).toBeGreaterThanOrEqual(5);
    for (const b of binds)
      expect({ b, exists: fs.existsSync(path.join(ROOT, b.split(':')[0])) }).toEqual({ b, exists: true });
  });

  it('the MySQL primary: semi-synchronous replication, lossless (AFTER_SYNC), with a short fallback timeout', () => {
    const cnf = mycnf('deploy/mysql/primary.cnf');
    expect(cnf).toMatchObject({
      plugin_load_add: 'semisync_source.so',
      rpl_semi_sync_source_enabled: 'ON',
      rpl_semi_sync_source_wait_point: 'AFTER_SYNC',
    });
    expect(Number(cnf.rpl_semi_sync_source_timeout)).toBeGreaterThan(0);
    expect(Number(cnf.rpl_semi_sync_source_timeout)).toBeLessThanOrEqual(5000);
    const replica = mycnf('deploy/mysql/replica.cnf');
    expect(replica.plugin_load_add.split(';')).toEqual(
      expect.arrayContaining(['semisync_replica.so', 'semisync_source.so']),
    );
    expect(replica.rpl_semi_sync_replica_enabled).toBe('ON');
  });

  it('the MySQL primary: server-id 1, GTID on and enforced, ROW binlog; init creates shop/shop, repl with REPLICATION SLAVE and database shop', () => {
    expect(SERVICES['mysql-primary'].volumes).toEqual(
      expect.arrayContaining([
        './deploy/mysql/primary.cnf:/etc/mysql/conf.d/primary.cnf:ro',
        './deploy/mysql/primary-init:/docker-entrypoint-initdb.d:ro',
      ]),
    );
    expect(mycnf('deploy/mysql/primary.cnf')).toMatchObject({
      server_id: '1',
      gtid_mode: 'ON',
      enforce_gtid_consistency: 'ON',
      binlog_format: 'ROW',
    });
    const sql = read('deploy/mysql/primary-init/01-users.sql');
    expect(sql).toMatch(/CREATE USER IF NOT EXISTS 'shop'@'%' IDENTIFIED BY 'shop'/);
    expect(sql).toMatch(/CREATE USER IF NOT EXISTS 'repl'@'%'/);
    expect(sql).toMatch(/GRANT REPLICATION SLAVE[^;]* ON \*\.\* TO 'repl'@'%'/);
    expect(sql).toMatch(/CREATE DATABASE IF NOT EXISTS `shop`/);
  });

  it('the MySQL replica: server-id 2, GTID, read_only, and an init script that uses 8.4 auto-position syntax and persists super_read_only', () => {
    expect(SERVICES['mysql-replica'].volumes).toEqual(
      expect.arrayContaining([
        './deploy/mysql/replica.cnf:/etc/mysql/conf.d/replica.cnf:ro',
        './deploy/mysql/replica-init:/docker-entrypoint-initdb.d:ro',
      ]),
    );
    const cnf = mycnf('deploy/mysql/replica.cnf');
    expect(cnf).toMatchObject({
      server_id: '2',
      gtid_mode: 'ON',
      enforce_gtid_consistency: 'ON',
      read_only: 'ON',
      log_replica_updates: 'ON',
    });
    const sh = read('deploy/mysql/replica-init/01-replication.sh');
    const code = sh
      .split('\n')
      .filter((l) => !/^\s*#/.test(l))
      .join('\n');
    expect(sh).toMatch(/CHANGE REPLICATION SOURCE TO/);
    expect(sh).toMatch(/SOURCE_AUTO_POSITION = 1/);
    expect(sh).toMatch(/GET_SOURCE_PUBLIC_KEY = 1/);
    expect(sh).toMatch(/START REPLICA;/);
    expect(sh).toMatch(/SET PERSIST super_read_only = ON;/);
    // statements removed in MySQL 8.4 (the privilege is still called REPLICATION SLAVE)
    expect(code.replace(/REPLICATION SLAVE/g, '')).not.toMatch(/\b(MASTER|SLAVE)\b/i);
    // it waits for the primary before configuring
    expect(sh.indexOf('until ')).toBeGreaterThan(-1);
    expect(sh.indexOf('until ')).toBeLessThan(sh.indexOf('CHANGE REPLICATION SOURCE'));
    expect(fs.statSync(path.join(ROOT, 'deploy/mysql/replica-init/01-replication.sh')).mode & 0o111).not.toBe(
      0,
    );
  });

  it('redis keeps queue data: appendonly yes and maxmemory-policy noeviction', () => {
    const cmd = SERVICES.redis.command.join(' ');
    expect(cmd).toMatch(/--appendonly yes/);
    expect(cmd).toMatch(/--maxmemory-policy noeviction/);
  });

  it('nginx mounts the rendered compose.conf and publishes exactly the ports it listens on', () => {
    expect(SERVICES.nginx.volumes).toContain('./deploy/nginx/compose.conf:/etc/nginx/nginx.conf:ro');
    const listens = directives(read(NGINX_COMPOSE))
      .filter((d) => d.startsWith('listen '))
      .map((d) => Number(d.split(' ')[1]));
    expect(listens.sort()).toEqual(containerPorts(SERVICES.nginx).sort());
    expect(SERVICES.nginx.healthcheck.test.join(' ')).toContain('/nginx-health');
  });
});

// =============================================================================================
// nginx
// =============================================================================================

describe('deploy/nginx', () => {
  const template = read(NGINX_TEMPLATE);
  // upstream placeholders filled the way the local cluster script fills them; the rest read <NAME>
  const tpl = directives(
    template
      .replace('{{HTTP_UPSTREAMS}}', '    server 127.0.0.1:3001 max_fails=1 fail_timeout=5s;')
      .replace('{{GRPC_UPSTREAMS}}', '    server 127.0.0.1:50061 max_fails=1 fail_timeout=5s;'),
  );

  it('the template has every placeholder and none inside a comment', () => {
    for (const p of NGINX_PLACEHOLDERS)
      expect({ p, used: template.includes(`{{${p}}}`) }).toEqual({ p, used: true });
    const inComments = template.split('\n').filter((l) => /#.*\{\{/.test(l));
    expect(inComments).toEqual([]);
    const unknown = [...template.matchAll(/\{\{([A-Z_]+)\}\}/g)]
      .map((m) => m[1])
      .filter((p) => !NGINX_PLACEHOLDERS.includes(p));
    expect(unknown).toEqual([]);
  });

  it('compose.conf is the template rendered with the compose values', () => {
    const expected = COMPOSE_CONF_HEADER + renderNginx(template, COMPOSE_NGINX_VALUES);
    if (process.env.UPDATE_RENDERED === '1') fs.writeFileSync(path.join(ROOT, NGINX_COMPOSE), expected);
    expect(read(NGINX_COMPOSE)).toBe(expected);
  });

  it('compose upstreams are the api service ports, resolved by Docker DNS', () => {
    const conf = directives(read(NGINX_COMPOSE));
    expect(conf.filter((d) => d.startsWith('server api:'))).toEqual([
      'server api:3000 max_fails=1 fail_timeout=5s',
      'server api:50051 max_fails=1 fail_timeout=5s',
    ]);
    const apiEnv = composeEnv(SERVICES.api);
    expect([apiEnv.PORT, apiEnv.GRPC_PORT]).toEqual(['3000', '50051']);
  });

  it('HTTP retries go to another instance only on error/timeout/502/503 and never re-send non-idempotent requests', () => {
    expect(tpl).toContain('proxy_next_upstream error timeout http_502 http_503');
    expect(tpl.filter((d) => /non_idempotent/.test(d))).toEqual([]);
    expect(tpl).toContain('proxy_next_upstream_tries 2');
  });

  it('gRPC: an http2 listener passing to grpc://grpc_backends, retried only on connection errors', () => {
    expect(tpl).toContain('listen <GRPC_LISTEN> http2');
    expect(tpl).toContain('grpc_pass grpc://grpc_backends');
    const next = tpl.filter((d) => d.startsWith('grpc_next_upstream '));
    expect(next).toEqual(['grpc_next_upstream error timeout']);
  });

  it('HTTP: round-robin keepalive upstream, request id passthrough or generation, X-Forwarded-For, 1m bodies, /nginx-health', () => {
    expect(tpl).toContain('upstream api_backends');
    expect(tpl).toContain('keepalive 64');
    expect(tpl.filter((d) => /^(least_conn|ip_hash|hash|random)\b/.test(d))).toEqual([]);
    expect(tpl).toContain('proxy_http_version 1.1');
    expect(tpl).toContain('proxy_set_header Connection ""');
    expect(tpl).toContain('proxy_pass http://api_backends');
    expect(template).toMatch(
      /map \$http_x_request_id \$nc_request_id \{\s*"~\^\[A-Za-z0-9._:-\]\{1,128\}\$" \$http_x_request_id;\s*default\s+\$request_id;\s*\}/,
    );
    expect(tpl).toContain('proxy_set_header X-Request-Id $nc_request_id');
    expect(tpl).toContain('proxy_set_header X-Forwarded-For $remote_addr');
    expect(tpl).toContain('client_max_body_size 1m');
    expect(tpl).toContain('location = /nginx-health');
    for (const t of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) {
      expect(tpl).toContain(`${t}_temp_path <TEMP_DIR>/${t}_temp`);
    }
  });
});

// =============================================================================================
// the image
// =============================================================================================

describe('Dockerfile', () => {
  const dockerfile = read('Dockerfile');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('is multi-stage on node:20-bookworm-slim: npm ci, npm run build, npm prune --omit=dev', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(instructions.filter((l) => /^FROM /.test(l))).toEqual([
      'FROM ${NODE_IMAGE} AS build',
      'FROM ${NODE_IMAGE} AS runtime',
    ]);
    const run = instructions.filter((l) => l.startsWith('RUN ')).join(' ');
    expect(run).toMatch(/npm ci\b/);
    expect(run).toMatch(/npm run build/);
    expect(run).toMatch(/npm prune --omit=dev/);
  });

  it('the runtime stage runs as node, exposes 3000 and 50051 and starts dist/main.js', () => {
    const runtime = instructions.slice(instructions.findIndex((l) => / AS runtime$/.test(l)));
    expect(runtime).toContain('USER node');
    expect(runtime).toContain('EXPOSE 3000 50051');
    expect(runtime[runtime.length - 1]).toBe('CMD ["node", "dist/main.js"]');
    expect(runtime.filter((l) => /^COPY --from=build .*node_modules/.test(l))).toHaveLength(1);
  });

  it('.dockerignore keeps local state and secrets out of the build context', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(
      expect.arrayContaining(['node_modules', 'dist', '.local', '.git', 'coverage', 'bench/results', '.env']),
    );
  });
});

// =============================================================================================
// Grafana
// =============================================================================================

const DASHBOARD = 'deploy/grafana/nest-commerce-dashboard.json';

function tsSources(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((d) =>
      d.isDirectory()
        ? tsSources(path.join(dir, d.name))
        : /(?<!\.spec)\.ts$/.test(d.name)
          ? [path.join(dir, d.name)]
          : [],
    );
}

/**
 * The metric names the code registers, found by reading src/: every `shop_*` string literal
 * (histograms: those passed to a histogram constructor or helper, which also expose `_bucket`,
 * `_sum`, `_count`), plus prom-client's default process metrics when src collects them with
 * the `shop_` prefix.
 */
function registeredMetrics(): { names: Set<string>; histograms: Set<string> } {
  const names = new Set<string>();
  const histograms = new Set<string>();
  let defaults = false;
  for (const file of tsSources(path.join(ROOT, 'src'))) {
    const src = fs.readFileSync(file, 'utf8');
    for (const m of src.matchAll(/['"`](shop_[a-z0-9_]+)['"`]/g)) names.add(m[1]);
    for (const m of src.matchAll(/histogram\s*\(\s*['"`](shop_[a-z0-9_]+)['"`]/gi)) histograms.add(m[1]);
    if (/collectDefaultMetrics\(\{[^}]*prefix: 'shop_'/.test(src)) defaults = true;
  }
  if (defaults) {
    const r = new Registry();
    collectDefaultMetrics({ register: r, prefix: 'shop_' });
    for (const m of r.getMetricsAsArray()) {
      names.add(m.name);
      if ((m as unknown as { type: string }).type === 'histogram') histograms.add(m.name);
    }
    r.clear();
  }
  return { names, histograms };
}

describe('deploy/grafana dashboard', () => {
  const dashboard = JSON.parse(read(DASHBOARD)) as Obj;
  const panels: Obj[] = (dashboard.panels as Obj[]).flatMap((p) => [p, ...((p.panels as Obj[]) ?? [])]);
  const graphs = panels.filter((p) => p.type !== 'row');
  const exprs: { panel: string; expr: string }[] = graphs.flatMap((p) =>
    (p.targets as Obj[]).map((t) => ({ panel: p.title as string, expr: t.expr as string })),
  );
  const queried = (expr: string): string[] => expr.match(/\bshop_[a-zA-Z0-9_:]*/g) ?? [];

  it('parses, has a uid and title, and picks its Prometheus data source through a template variable', () => {
    expect(dashboard.uid).toBe('nest-commerce');
    expect(typeof dashboard.title).toBe('string');
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    const ds = dashboard.templating.list.find((v: Obj) => v.type === 'datasource');
    expect(ds).toMatchObject({ name: 'datasource', query: 'prometheus' });
    for (const p of graphs)
      expect({ panel: p.title, ds: p.datasource }).toEqual({
        panel: p.title,
        ds: { type: 'prometheus', uid: '${datasource}' },
      });
  });

  it('panel ids are unique and every panel fits the 24-column grid', () => {
    const ids = panels.map((p) => p.id);
    expect(ids.length).toBe(new Set(ids).size);
    for (const p of panels) {
      const g = p.gridPos;
      expect({ panel: p.title, fits: g.x >= 0 && g.w > 0 && g.h > 0 && g.x + g.w <= 24 }).toEqual({
        panel: p.title,
        fits: true,
      });
    }
  });

  it('every query names only metrics the code registers (histogram series only of histograms)', () => {
    const { names, histograms } = registeredMetrics();
    expect(names.size).toBeGreaterThan(10);
    expect(exprs.length).toBeGreaterThan(0);
    const known = (m: string): boolean => {
      const series = /^(.+)_(bucket|sum|count)$/.exec(m);
      return names.has(m) || (!!series && histograms.has(series[1]));
    };
    for (const { panel, expr } of exprs) {
      expect({ panel, queriesAMetric: queried(expr).length > 0 }).toEqual({ panel, queriesAMetric: true });
      expect({ panel, unknown: queried(expr).filter((m) => !known(m)) }).toEqual({ panel, unknown: [] });
    }
  });

  it('quantiles are taken over histogram buckets aggregated by le', () => {
    const quantiles = exprs.filter((e) => e.expr.includes('histogram_quantile'));
    expect(quantiles.length).toBeGreaterThanOrEqual(4);
    for (const { panel, expr } of quantiles) {
      expect({ panel, ok: /_bucket\b/.test(expr) && /by \(le\b/.test(expr) }).toEqual({ panel, ok: true });
    }
  });

  it('covers every family issue 8 names: HTTP and gRPC latency, queue depth, stream lag, cache, DB pool, replica lag', () => {
    const all = new Set(exprs.flatMap((e) => queried(e.expr)));
    for (const m of [
      'shop_http_request_duration_seconds_bucket',
      'shop_http_request_duration_seconds_count',
      'shop_grpc_request_duration_seconds_bucket',
      'shop_grpc_request_duration_seconds_count',
      'shop_queue_jobs',
      'shop_queue_jobs_processed_total',
      'shop_flash_sale_stream_lag',
      'shop_cache_hits_total',
      'shop_cache_misses_total',
      'shop_db_pool_connections',
      'shop_db_pool_waiting_requests',
      'shop_db_replica_lag_seconds',
    ])
      expect({ m, queried: all.has(m) }).toEqual({ m, queried: true });
  });
});

describe('deploy/prometheus alert rules', () => {
  const rules = parse(read('deploy/prometheus/alerts.yml')) as {
    groups: { name: string; rules: { alert: string; expr: string; labels: Obj; annotations: Obj }[] }[];
  };
  const all = rules.groups.flatMap((g) => g.rules);

  it('parses into named groups of rules with a severity and a summary', () => {
    expect(all.length).toBeGreaterThanOrEqual(4);
    for (const r of all)
      expect({
        alert: r.alert,
        severity: typeof r.labels?.severity,
        summary: typeof r.annotations?.summary,
      }).toEqual({
        alert: r.alert,
        severity: 'string',
        summary: 'string',
      });
  });

  it('every rule names only metrics the code registers, and the event rules cover dead letters and the outbox', () => {
    const { names } = registeredMetrics();
    const queried = (expr: string): string[] => expr.match(/\bshop_[a-zA-Z0-9_:]*/g) ?? [];
    for (const r of all) {
      expect({ alert: r.alert, queriesAMetric: queried(r.expr).length > 0 }).toEqual({
        alert: r.alert,
        queriesAMetric: true,
      });
      expect({ alert: r.alert, unknown: queried(r.expr).filter((m) => !names.has(m)) }).toEqual({
        alert: r.alert,
        unknown: [],
      });
    }
    const named = new Set(all.flatMap((r) => queried(r.expr)));
    for (const m of [
      'shop_queue_jobs',
      'shop_queue_dead_letters_total',
      'shop_outbox_oldest_owed_seconds',
      'shop_queue_dead_letters_given_up_total',
    ])
      expect({ m, alerted: named.has(m) }).toEqual({ m, alerted: true });
  });
});
