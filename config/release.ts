import { z } from "zod";
import { LABEL_VALUE, nameRecord } from "../lib/names";

/**
 * Schema of `blueprint:release`, the one place where a stack's images live. Promotion
 * rewrites this key; the program deploys exactly these references.
 */
export const releaseSchema = z.strictObject({
  /** Id of the release file in `stacks/releases/`, when the images came from a release. */
  // The id is the pods' app.kubernetes.io/version label, so it must also be a label value (<= 63, alphanumeric at both ends).
  id: z
    .string()
    .regex(/^[a-z0-9][-a-z0-9.]{0,62}$/, { message: "must be a release id (lowercase letters, digits, '-', '.')" })
    .regex(LABEL_VALUE, { message: "must end with a letter or digit (it is the app.kubernetes.io/version label)" })
    .optional(),
  /** Image name -> `repo@sha256:<64 hex>`. Apps refer to images by these names. */
  images: nameRecord(z.string()),
});

export type ReleaseConfig = z.infer<typeof releaseSchema>;
