import { z } from 'zod';
import { credentialsObject, optionalText, platformField, uuidField } from './fields.js';

/** Platform connections: bodies and answers of create-profile, update-profile-creds, store and reveal. */
export const CreateProfileBody = z.object({
	platform: platformField(),
	platform_username: optionalText('platform_username'),
	credentials: credentialsObject(),
});
export type CreateProfileInput = z.infer<typeof CreateProfileBody>;
export const CreateProfileAnswer = z.object({ success: z.literal(true), id: z.string(), updated: z.boolean() });

export const UpdateProfileCredsBody = z.object({
	creator_profile_id: uuidField('creator_profile_id'),
	credentials: credentialsObject(),
	platform_username: optionalText('platform_username'),
});
export type UpdateProfileCredsInput = z.infer<typeof UpdateProfileCredsBody>;
export const UpdateProfileCredsAnswer = z.object({ success: z.literal(true), id: z.string() });

export const StoreBody = z.object({
	creatorProfileId: uuidField('creatorProfileId'),
	credentials: credentialsObject(),
});
export type StoreInput = z.infer<typeof StoreBody>;
export const StoreAnswer = z.object({ success: z.literal(true), creatorProfileId: z.string(), updated: z.string() });

export const RevealBody = z.object({ creatorProfileId: uuidField('creatorProfileId') });
export type RevealInput = z.infer<typeof RevealBody>;
export const RevealAnswer = z.object({ success: z.literal(true), creatorProfileId: z.string(), credentials: z.record(z.string(), z.unknown()) });
