import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The shape of the house: no module of functions/ or infra/ imports itself back through others
 * (types included), so each can be read, tested and bundled from the bottom up.
 */
const ROOT = join(import.meta.dirname, '..', '..');

function sourceFiles(directory: string): string[] {
  return readdirSync(join(ROOT, directory), { withFileTypes: true }).flatMap((entry) => {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Each module's relative imports and re-exports, as paths from the repository root. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of [...sourceFiles('functions'), ...sourceFiles('infra')]) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const targets = [...text.matchAll(/^(?:import|export)\b[^;]*?\bfrom '(\.[^']+)'/gms)].map((match) => normalize(join(dirname(file), match[1]!)));
    graph.set(file, targets);
  }
  return graph;
}

/** The cycles of a graph: its strongly connected components of more than one module (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (node: string) => {
    index.set(node, next);
    low.set(node, next);
    next += 1;
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!graph.has(target)) continue;
      if (!index.has(target)) {
        visit(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) low.set(node, Math.min(low.get(node)!, index.get(target)!));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      for (let member = stack.pop()!; ; member = stack.pop()!) {
        onStack.delete(member);
        component.push(member);
        if (member === node) break;
      }
      if (component.length > 1 || graph.get(node)!.includes(node)) found.push(component.sort());
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

describe('the Lambda handlers', () => {
  it('are alike: tools from handlerTools under their own name, the invocation context first, every SDK client traced', () => {
    const handlers = readdirSync(join(ROOT, 'functions', 'handlers'), { withFileTypes: true }).filter((entry) => entry.isDirectory());
    expect(handlers.length).toBeGreaterThanOrEqual(10);
    for (const { name } of handlers) {
      const text = readFileSync(join(ROOT, 'functions', 'handlers', name, 'index.ts'), 'utf8');
      expect(text, name).toContain(`handlerTools('${name}')`);
      expect(text, name).toMatch(/export async function handler\([^)]*context\??: Context\)[^\n]*\{\n {2}begin\(context\);/);
      expect(text, name).not.toMatch(/new (Logger|Metrics|Tracer)\(/);
      for (const client of text.matchAll(/(.{7})new \w+Client\(/g)) expect(client[1], name).toBe('traced(');
    }
  });
});

describe('the test files', () => {
  it('load a Lambda handler through importHandler, so that it starts with the environment its file sets', () => {
    // Test files share worker processes (vitest.config.ts): a handler imported directly would
    // keep the environment of whichever file imported it first.
    // Any path to a handler's module, however it is imported, outside the helper itself.
    const handlerPath = /functions\/handlers\/(?:[a-z-]+|\$\{[^}]*\})\/index/;
    const files = sourceFiles('test').filter((file) => file !== join('test', 'support', 'lambda.ts'));
    expect(files.filter((file) => handlerPath.test(readFileSync(join(ROOT, file), 'utf8')))).toEqual([]);
    // The check itself (written in parts, so that this file does not match it).
    for (const text of [`import('../../functions/${'handlers/publish/index.ts'}')`, `import(\`../../functions/${'handlers/${name}/index.ts'}\`)`]) {
      expect(handlerPath.test(text), text).toBe(true);
    }
  });
});

describe('the module graph', () => {
  it('has no import cycles', () => {
    const graph = importGraph();
    expect(graph.size).toBeGreaterThan(100);
    expect(cycles(graph).map((cycle) => cycle.map((file) => relative('.', file)))).toEqual([]);
  });

  it('finds a cycle where there is one (the check itself)', () => {
    const graph = new Map([
      ['a.ts', ['b.ts']],
      ['b.ts', ['c.ts']],
      ['c.ts', ['a.ts']],
      ['d.ts', ['a.ts']],
    ]);
    expect(cycles(graph)).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});

describe('handlerTools', () => {
  it('puts the invocation context on every log line and leaves SDK clients as they are outside Lambda', async () => {
    process.env['POWERTOOLS_TRACE_ENABLED'] = 'false';
    const { handlerTools } = await import('../../functions/handlers/commons.ts');
    const tools = handlerTools('architecture-test');
    tools.begin({ awsRequestId: 'request-7', functionName: 'f', functionVersion: '1', invokedFunctionArn: 'arn', memoryLimitInMB: '128' } as never);
    const lines: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    const spy = (chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    };
    process.stdout.write = spy as typeof process.stdout.write;
    const env = process.env['POWERTOOLS_LOG_LEVEL'];
    try {
      tools.logger.setLogLevel('INFO');
      tools.logger.info('hello');
    } finally {
      process.stdout.write = original;
      if (env !== undefined) process.env['POWERTOOLS_LOG_LEVEL'] = env;
    }
    const logged = lines.map((line) => line.trim()).filter((line) => line.startsWith('{'));
    expect(logged.map((line) => JSON.parse(line))).toContainEqual(
      expect.objectContaining({ message: 'hello', function_request_id: 'request-7', service: 'architecture-test' }),
    );
    const client = { send: async () => 'sent', middlewareStack: { add: () => undefined, use: () => undefined } };
    expect(tools.traced(client)).toBe(client);
  });
});
