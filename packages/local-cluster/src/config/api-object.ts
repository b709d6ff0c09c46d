// An object the bootstrap creates through the API server: the collection to POST to and the body.

export interface ApiObject {
  /** collection path to POST to */
  readonly path: string;
  readonly body: Record<string, unknown>;
}
