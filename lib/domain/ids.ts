import { z } from "zod";

const uuid = z.uuid();

/** Ids arrive from URLs: anything that is not a UUID cannot name a row, so callers answer 404 without a query. */
export const isUuid = (value: string | undefined): value is string => uuid.safeParse(value).success;
