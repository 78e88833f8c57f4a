// Russian strings, merged like en.ts.
import type { Messages } from "./en";
import { adminRu } from "./messages/admin";
import { commonRu } from "./messages/common";
import { galleryRu } from "./messages/gallery";
import { studioRu } from "./messages/studio";

export const ru: Messages = { ...commonRu, ...studioRu, ...galleryRu, ...adminRu };
