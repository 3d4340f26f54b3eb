import type { z } from 'zod';
import { z as zod } from 'zod';
import { RunHaltedError } from '../domain/errors.js';
import type { ContentBlock, ModelMessage, ModelResponse, ToolSpec } from '../domain/model.js';
import type { Actor } from '../domain/run.js';
import { type ToolName, toolDescriptions, toolInputSchemas } from '../domain/tools.js';
import type { RunJournal } from '../evidence/run-journal.js';
import { redactDeep, type SecretRedactor } from '../gateway/redact.js';
import type { ToolGateway } from '../gateway/tool-gateway.js';
import type { ArtifactStore } from '../ports/artifacts.js';
import type { ModelPort } from '../ports/model.js';
import { systemPrompt, untrusted } from './prompt.js';

export type FinishInput = z.infer<typeof toolInputSchemas.finish>;

/** The tool specifications the model sees, generated from the same zod schemas the gateway enforces. */
export const toolSpecs: ToolSpec[] = (Object.keys(toolInputSchemas) as ToolName[]).map((name) => ({
  name,
  description: toolDescriptions[name],
  inputSchema: zod.toJSONSchema(toolInputSchemas[name], { io: 'input' }) as Record<string, unknown>,
}));

export interface AgentPhase {
  /** Unique within the run: `reproduce`, `patch-1`, ... */
  phase: string;
  goal: string;
  transcript: ModelMessage[];
  maxTurns: number;
}

export interface AgentPhaseResult {
  finish: FinishInput;
  transcript: ModelMessage[];
  turns: number;
}

/**
 * Runs one phase of the coding loop: the model proposes tool calls, the gateway disposes. A turn already
 * recorded before a crash is replayed from its artifact instead of asking the model again, so a resumed
 * run continues the same conversation.
 */
export async function runAgentPhase(
  deps: {
    journal: RunJournal;
    model: ModelPort;
    gateway: ToolGateway;
    artifacts: ArtifactStore;
    agent: Actor;
    /** Checked before every live model turn: kill switches and budgets. */
    guard: () => Promise<void>;
    /**
     * Removes configured secrets from every model response before it is stored, replayed or sent back
     * in the transcript. The tool calls themselves reach the gateway as the model wrote them, so an
     * edit that would write a secret is refused there rather than silently rewritten.
     */
    redactor: SecretRedactor;
  },
  phase: AgentPhase,
): Promise<AgentPhaseResult> {
  const transcript: ModelMessage[] = [
    ...phase.transcript,
    { role: 'user', content: [{ type: 'text', text: phase.goal }] },
  ];
  for (let turn = 1; turn <= phase.maxTurns; turn++) {
    const { response, calls: asked } = await converse(deps, phase.phase, turn, transcript);
    const assistantContent = response.content.length
      ? response.content
      : [{ type: 'text' as const, text: '(no content)' }];
    transcript.push({ role: 'assistant', content: assistantContent });

    const calls = asked;
    if (calls.length === 0) {
      transcript.push({
        role: 'user',
        content: [
          {
            type: 'text',
            text: 'Runtime: no tool call received. Continue with a tool call, or call finish to end this phase.',
          },
        ],
      });
      continue;
    }
    const results: ContentBlock[] = [];
    let finish: FinishInput | undefined;
    for (const call of calls) {
      const result = await deps.gateway.call(
        { id: call.id, name: call.name, input: call.input },
        `${phase.phase}:t${turn}`,
      );
      if (result.finish) finish = result.finish;
      results.push({
        type: 'tool_result',
        toolUseId: call.id,
        content:
          call.name === 'finish' || !result.ok
            ? result.output
            : untrusted(`tool:${call.name}`, result.output),
        isError: !result.ok,
      });
    }
    transcript.push({ role: 'user', content: results });
    if (finish) return { finish, transcript, turns: turn };
  }
  throw new RunHaltedError(`the agent did not finish phase ${phase.phase} within ${phase.maxTurns} turns`, {
    input: phase.phase,
    hint: 'raise the per-phase turn limit in the plan, or narrow the request',
  });
}

async function converse(
  deps: {
    journal: RunJournal;
    model: ModelPort;
    artifacts: ArtifactStore;
    agent: Actor;
    guard: () => Promise<void>;
    redactor: SecretRedactor;
  },
  phase: string,
  turn: number,
  transcript: ModelMessage[],
): Promise<{ response: ModelResponse; calls: ToolUse[] }> {
  const key = `${phase}:turn:${turn}`;
  const recorded = deps.journal.find(key, 'model.turn');
  if (recorded) {
    // A replayed turn has only its stored calls; one that held a secret was refused when it first ran.
    const response = JSON.parse(await deps.artifacts.getText(recorded.data.response)) as ModelResponse;
    return { response, calls: toolUses(response) };
  }
  await deps.guard();
  const started = performance.now();
  // A secret the model writes (it can only have it from a leak elsewhere) is never stored, sent back or
  // replayed: the response is redacted of configured secrets, and of nothing else, since its tool
  // inputs are code. The calls run as written, so the gateway can refuse one that would write a secret.
  const raw = await deps.model.converse({
    system: systemPrompt,
    messages: transcript,
    tools: toolSpecs,
    maxTokens: 4096,
  });
  const response = redactDeep(raw, deps.redactor, { literalsOnly: true });
  const durationMs = Math.round(performance.now() - started);
  const hash = await deps.artifacts.put(JSON.stringify(response), 'application/json');
  await deps.journal.record(key, 'model.turn', deps.agent, {
    phase,
    turn,
    model: response.model,
    response: hash,
    inputTokens: response.usage.inputTokens,
    outputTokens: response.usage.outputTokens,
    stopReason: response.stopReason,
    durationMs,
  });
  // Ids and names as stored, so a resumed run finds the same events; inputs as the model wrote them.
  const rawUses = toolUses(raw);
  const calls = toolUses(response).map((use, i) => ({ ...use, input: rawUses[i]?.input ?? use.input }));
  return { response, calls };
}

type ToolUse = Extract<ContentBlock, { type: 'tool_use' }>;

function toolUses(response: ModelResponse): ToolUse[] {
  return response.content.filter((b): b is ToolUse => b.type === 'tool_use');
}
