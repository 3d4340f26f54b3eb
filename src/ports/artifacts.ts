/** Content-addressed artifact storage: the key of every object is the sha256 of its bytes. */
export interface ArtifactStore {
  /** Stores the bytes (once) and returns their sha256 hex digest. */
  put(content: string | Uint8Array, contentType?: string): Promise<string>;
  /** Returns the bytes, after checking that they still hash to `sha256`. */
  get(sha256: string): Promise<Buffer>;
  getText(sha256: string): Promise<string>;
  has(sha256: string): Promise<boolean>;
}
