// Package user manages user accounts. Usernames are unique case-insensitively among live
// users (a partial unique index, so two racing creates cannot both win); passwords are
// stored only as Argon2id hashes.
package user
