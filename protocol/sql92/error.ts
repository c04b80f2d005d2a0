/** The one error an SQL92 filter expression can fail to compile with. */
export class Sql92Error extends Error {
  /** 0-based offset (UTF-16 code units) in the expression where the problem was found. */
  readonly position: number;

  constructor(detail: string, position: number) {
    super(`${detail} at position ${position}`);
    this.name = "Sql92Error";
    this.position = position;
  }
}
