// The gallery page: filters, paging, lightbox, delete.
export const galleryEn = {
};

export const galleryRu: Record<keyof typeof galleryEn, string> = {
};
