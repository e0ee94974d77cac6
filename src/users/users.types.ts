import type { UserRole } from './user.entity';

/** What other modules may know about a user (never the password hash). */
export interface UserProfile {
  id: string;
  email: string;
  name: string;
  role: UserRole;
  /** The owner proved they receive mail at `email` (a verification or reset link). */
  emailVerified: boolean;
  createdAt: Date;
}
