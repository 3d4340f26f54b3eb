/** One resource the app registered under Pulumi mocks: its type token, logical name and inputs. */
export interface SynthResource {
  type: string;
  name: string;
  /** The id the mocks gave it (what other resources' inputs refer to). */
  id: string;
  /** True for cloud resources; false for SST components (which only group others). */
  custom: boolean;
  inputs: Record<string, unknown>;
  /** The mocked state: inputs plus the ids, names and ARNs the mocks computed. */
  state: Record<string, unknown>;
}

export interface Synthesis {
  stage: string;
  resources: SynthResource[];
  outputs: Record<string, unknown>;
  seconds: number;
}

export const MOCK_ACCOUNT = '123456789012';
export const MOCK_REGION = 'eu-west-1';
