// The studio page: form, progress, result.
export const studioEn = {
};

export const studioRu: Record<keyof typeof studioEn, string> = {
};
