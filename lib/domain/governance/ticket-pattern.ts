// An admin's ticket format tested against a requester's ticket. The pattern is a regular expression from the
// database; one that backtracks catastrophically ((a+)+$) would stall the whole gateway, so it runs with a deadline.
import { runInNewContext } from "node:vm";

const deadlineMs = 50;

/** true or false, or "undecided" when the pattern took longer than its deadline. */
export function ticketMatches(pattern: string, ticket: string): boolean | "undecided" {
  try {
    return runInNewContext("new RegExp(pattern, 'u').test(ticket)", { pattern, ticket }, { timeout: deadlineMs }) === true;
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT") return "undecided";
    return false;
  }
}
