/** A position in a newest-first listing ordered by (created_at DESC, id DESC): the last row served. */
export interface Keyset {
  createdAt: Date;
  id: string;
}

/** What a repository is asked for one page of such a listing: rows after `after`, at most `limit`. */
export interface KeysetPage {
  after?: Keyset;
  limit: number;
}
