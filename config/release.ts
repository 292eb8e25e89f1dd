import { z } from "zod";


/**
 * Schema of `blueprint:release`, the one place where a stack's images live. Promotion
 * rewrites this key; the program deploys exactly these references.
 */
export const releaseSchema = z.strictObject({
  /** Id of the release file in `stacks/releases/`, when the images came from a release. */
  id: z.string().regex(/^[a-z0-9][-a-z0-9.]{0,62}$/, { message: "must be a release id (lowercase letters, digits, '-', '.')" }).optional(),
  /** Image name -> `repo@sha256:<64 hex>`. Apps refer to images by these names. */
  images: z.record(z.string(), z.string()),
});

export type ReleaseConfig = z.infer<typeof releaseSchema>;
