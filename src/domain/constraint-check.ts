import { z } from 'zod';

/** How one request constraint was checked on the final diff: the scope check, the packet and the review share it. */
export const ConstraintCheck = z.strictObject({
  constraint: z.string(),
  honoured: z.boolean(),
  how: z.string(),
  /** False when Gantry could not check it (a reviewer must): shown as not checked, never as passed. */
  checked: z.boolean().optional(),
});
export type ConstraintCheck = z.infer<typeof ConstraintCheck>;
