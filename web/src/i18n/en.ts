// English strings, merged from one file per area (messages/). Every key must exist in Russian too:
// each area's Russian object is typed against its English one.
import { adminEn } from "./messages/admin";
import { commonEn } from "./messages/common";
import { galleryEn } from "./messages/gallery";
import { studioEn } from "./messages/studio";

export const en = { ...commonEn, ...studioEn, ...galleryEn, ...adminEn };
export type Messages = { [K in keyof typeof en]: string };
