package segment

import "testing"

func TestSlug(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Order Completed", "order_completed"},
		{"Checkout Step 2 Viewed", "checkout_step_2_viewed"},
		{"orderID", "order_id"},
		{"orderId", "order_id"},
		{"APIKey", "api_key"},
		{"product.sku", "product_sku"},
		{"sign-up completed", "sign_up_completed"},
		{"Signed  Up!", "signed_up"},
		{"  leading and trailing  ", "leading_and_trailing"},
		{"already_snake_case", "already_snake_case"},
		{"step2Viewed", "step2_viewed"},
		{"2FA Enabled", "_2_fa_enabled"},
		{"Ünïcode Évent", "ünïcode_évent"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Slug(tt.in); got != tt.want {
			t.Errorf("Slug(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
