// The admin pages: accounts, maintenance, audit, queues.
export const adminEn = {
};

export const adminRu: Record<keyof typeof adminEn, string> = {
};
