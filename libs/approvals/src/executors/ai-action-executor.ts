/** What an in-process executor is given: exactly the approved input, and who it acts for. */
export interface ExecutionRequest {
  tenantId: string;
  actionId: string;
  type: string;
  input: Record<string, unknown>;
  inputHash: string;
}

export interface ExecutionResult {
  status: 'succeeded' | 'failed';
  output: Record<string, unknown>;
  usage?: Record<string, unknown>;
}

/** Runs one action type inside Ledgerline (e.g. messaging's `message.send`). */
export interface AiActionExecutor {
  readonly type: string;
  execute(request: ExecutionRequest): Promise<ExecutionResult>;
}
