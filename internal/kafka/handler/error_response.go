package handler

import (
	"reflect"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// errorResponse answers req with code in the response shape of its API,
// as Kafka's AbstractRequest.getErrorResponse does: the top-level
// ErrorCode where the response has one, and an item per item of the
// request (topics, partitions, groups, resources, ...) carrying the code,
// so that a client finds the error wherever its version of the API reports
// errors. It works on any kmsg request by reflection, which is slow but
// runs only for requests that failed unexpectedly (error_response_test.go
// proves it for every API the table serves, at every version).
func errorResponse(req kmsg.Request, code *kerr.Error) kmsg.Response {
	resp := req.ResponseKind() // the request's version, defaults applied
	msg := code.Description
	fillError(reflect.ValueOf(req).Elem(), reflect.ValueOf(resp).Elem(), req.Key(), code.Code, &msg, false)
	return resp
}

// renamedItems maps request arrays whose response counterpart has another
// name: API key and request field -> response field and the field of a
// response item that holds the request item when that is a plain string.
var renamedItems = map[int16]map[string][2]string{
	10: {"CoordinatorKeys": {"Coordinators", "Key"}},                   // FindCoordinator v4+
	20: {"TopicNames": {"Topics", "Topic"}},                            // DeleteTopics v0-5
	30: {"Creations": {"Results", ""}},                                 // CreateACLs
	31: {"Filters": {"Results", ""}},                                   // DeleteACLs
	57: {"FeatureUpdates": {"Results", ""}},                            // UpdateFeatures
	65: {"TransactionalIDs": {"TransactionStates", "TransactionalID"}}, // DescribeTransactions
}

// identityFields are the fields copied from a request item to its
// response item: the names that say which topic, partition, group, ...
// the item is about. Other fields of the same name (a ListOffsets
// timestamp, say) mean something else in the response and keep their
// defaults.
var identityFields = map[string]bool{
	"Topic": true, "TopicID": true, "Partition": true, "Group": true,
	"TransactionalID": true, "ProducerID": true, "ResourceType": true,
	"ResourceName": true, "MemberID": true, "InstanceID": true, "Key": true,
	"Feature": true,
}

// fillError sets the error fields of the response struct resp and mirrors
// into it the arrays of the request struct req (invalid when the request
// item was a plain value). item says resp is an array item, whose
// identity fields are copied from req.
func fillError(req, resp reflect.Value, key int16, code int16, msg *string, item bool) {
	t := resp.Type()
	for i := range t.NumField() {
		f, dst := t.Field(i), resp.Field(i)
		switch {
		case f.Name == "ErrorCode" && f.Type.Kind() == reflect.Int16:
			dst.SetInt(int64(code))
		case f.Name == "ErrorMessage" && f.Type == reflect.TypeFor[*string]():
			dst.Set(reflect.ValueOf(msg))
		case !req.IsValid():
		case f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Struct:
			if src, keyField, ok := requestItems(req, key, f.Name); ok {
				dst.Set(mirrorItems(src, f.Type, keyField, key, code, msg))
			}
		case item && identityFields[f.Name]:
			if src := req.FieldByName(f.Name); src.IsValid() {
				assign(dst, src)
			}
		}
	}
}

// requestItems finds the request array that the response array respName
// mirrors, and for plain-valued request arrays the response item field
// that holds each value.
func requestItems(req reflect.Value, key int16, respName string) (reflect.Value, string, bool) {
	for reqName, to := range renamedItems[key] {
		if to[0] == respName {
			if src := req.FieldByName(reqName); src.IsValid() && src.Len() > 0 {
				return src, to[1], true
			}
		}
	}
	src := req.FieldByName(respName)
	if !src.IsValid() || src.Kind() != reflect.Slice {
		return reflect.Value{}, "", false
	}
	// A plain array (Partitions []int32, Groups []string) fills the
	// singular field of the response item (Partition, Group).
	return src, strings.TrimSuffix(respName, "s"), true
}

// mirrorItems builds a response array of type typ with an item per
// request item in src.
func mirrorItems(src reflect.Value, typ reflect.Type, keyField string, key int16, code int16, msg *string) reflect.Value {
	out := reflect.MakeSlice(typ, src.Len(), src.Len())
	for j := range src.Len() {
		dst := out.Index(j)
		if d, ok := dst.Addr().Interface().(interface{ Default() }); ok {
			d.Default()
		}
		s := src.Index(j)
		if s.Kind() == reflect.Struct {
			fillError(s, dst, key, code, msg, true)
			continue
		}
		fillError(reflect.Value{}, dst, key, code, msg, true)
		if kf := dst.FieldByName(keyField); kf.IsValid() {
			assign(kf, s)
		}
	}
	return out
}

// assign sets dst to src where their types allow: the same type, or a
// string into a nullable string.
func assign(dst, src reflect.Value) {
	switch {
	case src.Type() == dst.Type():
		dst.Set(src)
	case src.Kind() == reflect.String && dst.Type() == reflect.TypeFor[*string]():
		s := src.String()
		dst.Set(reflect.ValueOf(&s))
	case src.Type() == reflect.TypeFor[*string]() && dst.Kind() == reflect.String && !src.IsNil():
		dst.SetString(src.Elem().String())
	}
}
